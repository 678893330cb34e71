import { describe, expect, test, vi } from 'vitest'
import { QueueOverflowError, SocketClosedError, TimeoutError } from '../../src/index'
import { setup, tick, useFakeTime } from './helpers'

useFakeTime()

type Ack = { id: string; ack?: boolean; type?: string }

/** Makes the mock server acknowledge every `{ id }` frame, while `acking()` is on. */
function acks(s: ReturnType<typeof setup>, shape: (id: string) => object = (id) => ({ id, ack: true })) {
  let on = true
  s.server.on('connection', (client) =>
    client.on('message', (data) => {
      const { id } = JSON.parse(String(data))
      if (on && id) client.send(JSON.stringify(shape(id)))
    }),
  )
  return (value: boolean) => (on = value)
}

const ids = (wire: unknown[]) => wire.map((frame) => JSON.parse(String(frame)).id)

describe('deliver()', () => {
  test('resolves on the acknowledgement, which is not emitted as a message; state.unacked counts what waits', async () => {
    const s = setup<Ack, object>()
    acks(s)
    await tick()
    const done = s.socket.deliver({ text: 'hi' })
    expect(s.socket.state.unacked).toBe(1)
    await tick()
    await expect(done).resolves.toBeUndefined()
    expect([s.socket.state.unacked, s.log]).toEqual([0, ['open']])
  })

  test('re-sends with the same id on every open until acknowledged, and never rejects because of a reconnect', async () => {
    const s = setup<Ack, object>()
    const acking = acks(s)
    acking(false)
    await tick()
    const done = s.socket.deliver({ text: 'once' })
    await tick()
    s.client().close({ code: 1006, reason: '', wasClean: false })
    await tick(600)
    expect([s.socket.state.status, s.wire.length]).toEqual(['open', 2])
    acking(true)
    s.client().close({ code: 1006, reason: '', wasClean: false })
    await tick(2000)
    await expect(done).resolves.toBeUndefined()
    const sent = ids(s.wire)
    expect(sent.length).toBe(3)
    expect(new Set(sent).size).toBe(1)
  })

  test('isAck recognises acknowledgements of another shape', async () => {
    const s = setup<Ack, object>({ delivery: { isAck: (message, id) => message.type === 'ack' && (message as any).of === id } })
    acks(s, (id) => ({ type: 'ack', of: id }))
    await tick()
    const done = s.socket.deliver({ text: 'x' })
    await tick()
    await expect(done).resolves.toBeUndefined()
    expect(s.log).toEqual(['open'])
  })

  test('at most inFlight deliveries are on the wire; the rest, and sends behind them, wait in order', async () => {
    const s = setup<Ack, object>({ delivery: { inFlight: 2 } })
    const acking = acks(s)
    acking(false)
    await tick()
    for (const k of [1, 2, 3]) void s.socket.deliver({ k })
    s.socket.send({ k: 4 })
    await tick()
    expect(s.wire.map((f) => JSON.parse(String(f)).k)).toEqual([1, 2])
    expect(s.socket.state).toMatchObject({ unacked: 2, queued: 2 })
    acking(true)
    s.client().send(JSON.stringify({ id: JSON.parse(String(s.wire[0])).id }))
    await tick()
    expect(s.wire.map((f) => JSON.parse(String(f)).k)).toEqual([1, 2, 3, 4])
  })

  test('rejects on its ttl, on abort, on overflow and on close(), and leaves the queue at once', async () => {
    const s = setup<Ack, object>()
    s.server.close()
    s.socket.on('error', () => {})
    const controller = new AbortController()
    const timedOut = s.socket.deliver({ k: 'ttl' }, { ttl: 1000 })
    const aborted = s.socket.deliver({ k: 'abort' }, { signal: controller.signal })
    const closed = s.socket.deliver({ k: 'close' })
    const settled = Promise.allSettled([timedOut, aborted, closed])
    expect(s.socket.state.queued).toBe(3)
    controller.abort(new Error('aborted by the app'))
    expect(s.socket.state.queued).toBe(2)
    await tick(1000)
    expect(s.socket.state.queued).toBe(1)
    s.socket.close()
    const [ttl, abort, close] = await settled
    expect([ttl, abort, close].map((r) => (r.status === 'rejected' ? (r.reason as Error).name || (r.reason as Error).message : r.status))).toEqual([
      'TimeoutError',
      'Error',
      'SocketClosedError',
    ])
    expect(s.socket.state.queued).toBe(0)
    void TimeoutError
    void SocketClosedError
  })

  test('a delivery pushed out of a full queue rejects with the QueueOverflowError', async () => {
    const s = setup<Ack, object>({ queue: { maxMessages: 1 } })
    s.server.close()
    s.socket.on('error', () => {})
    const first = s.socket.deliver({ k: 1 })
    void s.socket.deliver({ k: 2 })
    await expect(first).rejects.toBeInstanceOf(QueueOverflowError)
  })
})

describe('what the browser had not transmitted', () => {
  test('frames still in bufferedAmount when the connection dies go back to the head of the queue, in order', async () => {
    const s = setup()
    await tick()
    let buffered = 0
    const native = s.created[0]!
    const send = native.send.bind(native)
    Object.defineProperty(native, 'bufferedAmount', { get: () => buffered, configurable: true })
    native.send = (data) => {
      buffered += String(data).length
      send(data)
    }
    for (const value of ['a', 'b', 'c']) s.socket.send(value)
    // The browser handed "a" to TCP but still holds "b" and "c" (3 bytes each as JSON).
    buffered = 6
    s.client().close({ code: 1006, reason: '', wasClean: false })
    await tick()
    expect(s.socket.state.queued).toBe(2)
    await tick(500)
    expect(s.wire).toEqual(['"a"', '"b"', '"c"', '"b"', '"c"'])
  })

  test('a request that timed out while queued is never sent later', async () => {
    const s = setup<Ack, object>()
    s.server.close()
    s.socket.on('error', () => {})
    const request = s.socket.request({ method: 'x' }, { timeout: 100 })
    await expect(Promise.all([request, tick(100)])).rejects.toBeInstanceOf(TimeoutError)
    expect(s.socket.state.queued).toBe(0)
  })
})

describe('deliver() with a durable store: a call and a stored copy of the same delivery', () => {
  /** A store holding one delivery that a page (or leader tab) now gone left behind: adopted once, then this socket's. */
  function leftBehind(id: string) {
    const deleted: string[] = []
    let left = [{ key: 'k1', data: JSON.stringify({ id, text: 'left' }), at: 1, id }]
    const store = {
      adopt: async () => left.splice(0),
      put() {},
      delete: (key: string) => void deleted.push(key),
    }
    return { store, deleted }
  }

  test('handed in before the store is adopted (a follower re-sends to a new leader): one frame goes, the call resolves on its ack', async () => {
    const { store, deleted } = leftBehind('d1')
    const s = setup<Ack, object>({ lazy: true, queue: { store } })
    acks(s)
    const restored: unknown[] = []
    s.socket.on('restored', (event) => restored.push(event))
    const done = s.socket.deliver({ id: 'd1', text: 'left' })
    await tick(100)
    await expect(done).resolves.toBeUndefined()
    expect({ sent: ids(s.wire), deleted, restored, unacked: s.socket.state.unacked }).toEqual({ sent: ['d1'], deleted: ['k1', expect.stringMatching(/^(?!k1)/)], restored: [], unacked: 0 })
  })

  test('handed in after the store was adopted: the call takes the stored copy\'s place and resolves on the ack, nothing waits for ever', async () => {
    const { store } = leftBehind('d1')
    const s = setup<Ack, object>({ queue: { store } })
    const acking = acks(s)
    acking(false)
    await tick(100)
    expect([s.socket.state.status, ids(s.wire), s.socket.state.unacked]).toEqual(['open', ['d1'], 1])
    acking(true)
    const done = s.socket.deliver({ id: 'd1', text: 'left' })
    await tick(100)
    await expect(done).resolves.toBeUndefined()
    expect([ids(s.wire), s.socket.state.unacked, s.socket.state.queued]).toEqual([['d1', 'd1'], 0, 0])
  })

  test('a live call with an id already pending is still refused', async () => {
    const s = setup<Ack, object>()
    acks(s)(false)
    await tick()
    void s.socket.deliver({ id: 'same' }).catch(() => {})
    await expect(s.socket.deliver({ id: 'same' })).rejects.toThrow(/already pending/)
  })

  test('close() from a restored listener: no flush, no attempt, no timer; the restored delivery stays queued and stored', async () => {
    const { store, deleted } = leftBehind('d1')
    const s = setup<Ack, object>({ queue: { store } })
    acks(s)
    s.socket.on('restored', () => s.socket.close())
    await tick(100)
    await tick(60_000)
    expect([s.socket.state.status, s.wire, s.live(), vi.getTimerCount(), s.socket.state.queued, deleted]).toEqual(['closed', [], 0, 0, 1, []])
    expect(s.log.at(-1)).toBe('close:1000:final')
  })

  test('reconnect() from a restored listener: one live socket, open, the restored delivery sent and acknowledged once', async () => {
    const { store, deleted } = leftBehind('d1')
    const s = setup<Ack, object>({ queue: { store } })
    acks(s)
    let calls = 0
    s.socket.on('restored', () => calls++ || s.socket.reconnect())
    await tick(100)
    await tick(30_000)
    expect([calls, s.socket.state.status, s.live(), ids(s.wire), s.socket.state.queued, deleted]).toEqual([1, 'open', 1, ['d1'], 0, ['k1']])
  })

  test('send() from a restored listener goes out in the same flush, after the restored frame', async () => {
    const { store } = leftBehind('d1')
    const s = setup<Ack, object>({ queue: { store } })
    acks(s)
    s.socket.on('restored', () => s.socket.send({ after: true }))
    await tick(100)
    expect(s.wire.map((frame) => JSON.parse(String(frame)))).toEqual([{ id: 'd1', text: 'left' }, { after: true }])
  })

  test('close() keeps a delivery restored from the store queued and stored (no caller can be told); connect() sends it again', async () => {
    const { store, deleted } = leftBehind('d1')
    const s = setup<Ack, object>({ queue: { store } })
    const acking = acks(s)
    acking(false)
    await tick(100)
    s.socket.close()
    await tick()
    expect([s.socket.state.queued, deleted]).toEqual([1, []])
    acking(true)
    s.socket.connect()
    await tick(100)
    expect([ids(s.wire), s.socket.state.queued, deleted]).toEqual([['d1', 'd1'], 0, ['k1']])
  })
})
