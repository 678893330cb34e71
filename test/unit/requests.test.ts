import { describe, expect, test, vi } from 'vitest'
import { QueueOverflowError, SocketClosedError, TimeoutError } from '../../src/index'
import { createRequests } from '../../src/requests'
import { setup, tick, useFakeTime } from './helpers'

useFakeTime()

type Reply = { id: string; result?: number; type?: string }
type Call = { id?: string; method: string; params?: unknown }

/** Answers `{ id, method: 'add' }` requests with the sum of params. */
function answer(client: { on: (e: 'message', fn: (d: unknown) => void) => void; send: (d: string) => void }) {
  client.on('message', (data) => {
    const { id, method, params } = JSON.parse(String(data))
    if (method === 'add') client.send(JSON.stringify({ id, result: (params as number[]).reduce((a, b) => a + b, 0) }))
  })
}

describe('request/response', () => {
  test('sets a unique id on a copy and resolves with the matching reply, which is not emitted as message', async () => {
    const { socket, client, log, wire } = setup<Reply, Call>()
    await tick()
    answer(client())
    const message = { method: 'add', params: [1, 2] }
    const [a, b] = await Promise.all([socket.request(message), socket.request({ method: 'add', params: [3, 4] }), tick()])
    expect([a.result, b.result]).toEqual([3, 7])
    expect(message).toEqual({ method: 'add', params: [1, 2] })
    const ids = wire.map((frame) => JSON.parse(String(frame)).id)
    expect(new Set(ids).size).toBe(2)
    expect(ids.every((id) => typeof id === 'string')).toBe(true)
    expect(log).toEqual(['open'])
  })

  test('keeps an id the app set', async () => {
    const { socket, client, wire } = setup<Reply, Call>()
    await tick()
    answer(client())
    const [reply] = await Promise.all([socket.request({ id: 'mine', method: 'add', params: [5] }), tick()])
    expect([reply.id, wire]).toEqual(['mine', ['{"id":"mine","method":"add","params":[5]}']])
  })

  test('uses request.idField', async () => {
    const { socket, client, wire } = setup<{ rid: string }, object>({ request: { idField: 'rid' } })
    await tick()
    client().on('message', (data) => client().send(JSON.stringify({ rid: JSON.parse(String(data)).rid })))
    const [reply] = await Promise.all([socket.request({ q: 1 }), tick()])
    expect(reply.rid).toBe(JSON.parse(String(wire[0])).rid)
  })

  test('rejects with TimeoutError after the timeout and leaves no timer or entry', async () => {
    const { socket } = setup({ request: { timeout: 2000 } })
    await tick()
    const timersBefore = vi.getTimerCount()
    const pending = socket.request({ q: 1 })
    const outcome = expect(pending).rejects.toBeInstanceOf(TimeoutError)
    await tick(2000)
    await outcome
    expect(vi.getTimerCount()).toBe(timersBefore)
  })

  test('a per-call timeout overrides the default', async () => {
    const { socket } = setup()
    await tick()
    const pending = socket.request({ q: 1 }, { timeout: 50 })
    const outcome = expect(pending).rejects.toThrow(/50 ms/)
    await tick(50)
    await outcome
  })

  test("rejects with the signal's reason on abort", async () => {
    const { socket } = setup()
    await tick()
    const controller = new AbortController()
    const pending = socket.request({ q: 1 }, { signal: controller.signal })
    controller.abort(new Error('user left'))
    await expect(pending).rejects.toThrow('user left')
    const aborted = AbortSignal.abort(new Error('already'))
    await expect(socket.request({ q: 2 }, { signal: aborted })).rejects.toThrow('already')
  })

  test('rejects with SocketClosedError on close()', async () => {
    const { socket } = setup()
    await tick()
    const pending = socket.request({ q: 1 })
    socket.close()
    await expect(pending).rejects.toBeInstanceOf(SocketClosedError)
  })

  test('rejects with the QueueOverflowError when its queued frame is dropped', async () => {
    const { socket, env } = setup({ lazy: true, queue: { maxMessages: 1 } })
    env.signal('offline')
    socket.connect()
    const first = socket.request({ q: 1 })
    socket.send('pushes the request out')
    await expect(first).rejects.toBeInstanceOf(QueueOverflowError)
  })

  test('works across a reconnect when the reply arrives on the new connection, timing out from the call', async () => {
    const { socket, client, server } = setup<Reply, Call>({ request: { timeout: 5000 } })
    await tick()
    client().close({ code: 1006, reason: '', wasClean: false })
    await tick()
    server.on('connection', (next) => answer(next))
    const pending = socket.request({ method: 'add', params: [2, 2] })
    await tick(500)
    await expect(pending).resolves.toMatchObject({ result: 4 })
    const late = socket.request({ method: 'never answered' }, { timeout: 1000 })
    const outcome = expect(late).rejects.toBeInstanceOf(TimeoutError)
    client().close({ code: 1006, reason: '', wasClean: false })
    await tick(1000)
    await outcome
  })

  test('a request made while not open is queued and flushed on open', async () => {
    const { socket, client, wire } = setup<Reply, Call>({ lazy: true })
    const pending = socket.request({ method: 'add', params: [1, 1] })
    expect(socket.state.queued).toBe(1)
    await tick()
    client().send(JSON.stringify({ id: JSON.parse(String(wire[0])).id, result: 2 }))
    await expect(pending).resolves.toMatchObject({ result: 2 })
  })

  test('refuses a message that is not an object with a TypeError', async () => {
    const { socket } = setup<unknown, unknown>()
    await expect(socket.request('text')).rejects.toBeInstanceOf(TypeError)
    await expect(socket.request(null)).rejects.toBeInstanceOf(TypeError)
  })

  test('refuses a second pending request with the same id', async () => {
    const { socket } = setup()
    await tick()
    socket.request({ id: 'same' }).catch(() => {})
    await expect(socket.request({ id: 'same' })).rejects.toThrow(/already pending/)
  })
})

describe('createRequests', () => {
  test('leaves no pending entries, timers, abort listeners or queued frames once every request settles', async () => {
    const cleared: unknown[] = []
    const clock = { now: () => 0, setTimeout: () => cleared.length + 1, clearTimeout: (id: unknown) => void cleared.push(id) }
    const requests = createRequests('id', clock, undefined, () => {})
    const controller = new AbortController()
    const removed = vi.spyOn(controller.signal, 'removeEventListener')
    const sent: object[] = []
    let undone = 0
    const send = (message: object) => {
      sent.push(message)
      return () => void undone++
    }
    const answered = requests.start({ a: 1 }, 1000, controller.signal, send)
    const aborted = requests.start({ b: 1 }, 1000, controller.signal, send)
    const closed = requests.start({ c: 1 }, 1000, undefined, send)
    expect(requests.pending.size).toBe(3)
    expect(requests.settle({ id: (sent[0] as { id: string }).id, ok: true })).toBe(true)
    expect(requests.settle({ id: 'unknown' })).toBe(false)
    controller.abort()
    requests.rejectAll(new Error('closed'))
    await Promise.allSettled([answered, aborted, closed])
    expect([requests.pending.size, cleared.length, removed.mock.calls.length, undone]).toEqual([0, 3, 2, 3])
  })

  test('makes ids that are distinctive and unique across instances', () => {
    const clock = { now: () => 0, setTimeout: () => 0, clearTimeout: () => {} }
    const a = createRequests('id', clock, undefined, () => {})
    const b = createRequests('id', clock, undefined, () => {})
    const ids = [a.id(), a.id(), b.id()]
    expect(new Set(ids).size).toBe(3)
    for (const id of ids) expect(id).toMatch(/^ss[0-9a-z]+-\d+$/)
  })
})
