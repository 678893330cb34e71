import { describe, expect, test } from 'vitest'
import { MessageError, QueueOverflowError, SocketClosedError, type SteadySocketErrorType } from '../../src/index'
import { setup, tick, useFakeTime } from './helpers'

useFakeTime()

const errors = (socket: { on: (e: 'error', fn: (error: SteadySocketErrorType) => void) => () => void }) => {
  const seen: SteadySocketErrorType[] = []
  socket.on('error', (error) => seen.push(error))
  return seen
}

describe('codecs', () => {
  test('json: sends JSON text frames and parses incoming text frames', async () => {
    const { socket, received, client, log } = setup<{ b: number }, { a: number }>()
    await tick()
    expect(socket.send({ a: 1 })).toBe(true)
    client().send('{"b":2}')
    await tick()
    expect(received).toEqual(['{"a":1}'])
    expect(log).toEqual(['open', 'message:{"b":2}'])
  })

  test('text: strings in and out, no parsing', async () => {
    const { socket, received, client, log } = setup<string, string>({ codec: 'text' })
    await tick()
    socket.send('{not json')
    client().send('plain')
    await tick()
    expect([received, log]).toEqual([['{not json'], ['open', 'message:"plain"']])
  })

  test('reports a malformed JSON frame as MessageError and keeps the connection', async () => {
    const { socket, client, log } = setup()
    const seen = errors(socket)
    await tick()
    client().send('{"broken":')
    client().send('{"ok":true}')
    expect(log).toEqual(['open', 'error:MessageError', 'message:{"ok":true}'])
    expect(seen[0]).toBeInstanceOf(MessageError)
    expect((seen[0] as MessageError).data).toBe('{"broken":')
    expect((seen[0] as MessageError).cause).toBeInstanceOf(SyntaxError)
    expect(socket.state.status).toBe('open')
  })

  test.each([
    ['a cyclic object', (() => {
      const cyclic: Record<string, unknown> = {}
      cyclic.self = cyclic
      return cyclic
    })()],
    ['a BigInt', { n: 1n }],
    ['undefined', undefined],
  ])('send(%s) throws MessageError synchronously and queues nothing', async (_name, value) => {
    const { socket } = setup({ lazy: true })
    expect(() => socket.send(value)).toThrow(MessageError)
    expect(socket.state).toMatchObject({ queued: 0, status: 'idle' })
  })
})

describe('binary frames', () => {
  test.each([
    ['ArrayBuffer', new Uint8Array([1, 2, 3]).buffer],
    ['Uint8Array', new Uint8Array([1, 2, 3])],
    ['DataView', new DataView(new Uint8Array([1, 2, 3]).buffer)],
    ['Blob', new Blob([new Uint8Array([1, 2, 3])])],
  ])('sends a %s as-is whatever the codec', async (_name, value) => {
    const { socket, received } = setup()
    await tick()
    socket.send(value)
    await tick()
    expect(received).toEqual([value])
  })

  test('emits incoming binary frames on the binary event, not as messages', async () => {
    const { socket, client, log } = setup()
    const binary: unknown[] = []
    socket.on('binary', (data) => binary.push(data))
    await tick()
    const buffer = new Uint8Array([9, 8]).buffer
    client().send(buffer)
    expect(binary).toEqual([buffer])
    expect(log).toEqual(['open'])
  })

  test('applies binaryType to every native socket, including after reconnects', async () => {
    const { created, client } = setup({ binaryType: 'blob' })
    await tick()
    client().close({ code: 1006, reason: '', wasClean: false })
    await tick(500)
    expect(created.map((ws) => ws.binaryType)).toEqual(['blob', 'blob'])
  })

  test("defaults binaryType to 'arraybuffer'", async () => {
    const { created } = setup()
    expect(created[0]!.binaryType).toBe('arraybuffer')
  })

  test('sendRaw writes strings without the codec and refuses other values', async () => {
    const { socket, received } = setup()
    await tick()
    socket.sendRaw('raw text')
    await tick()
    expect(received).toEqual(['raw text'])
    expect(() => socket.sendRaw({} as never)).toThrow(TypeError)
  })
})

describe('offline queue', () => {
  test('queues while not open and flushes in order before emitting open', async () => {
    const { socket, received, env, log, wire } = setup({ lazy: true })
    socket.on('open', () => wire.push('open event'))
    env.signal('offline')
    socket.connect()
    expect([socket.send(1), socket.send(2), socket.send(3)]).toEqual([false, false, false])
    expect(socket.state).toMatchObject({ status: 'offline', queued: 3 })
    env.signal('online')
    await tick()
    expect(received).toEqual(['1', '2', '3'])
    expect(wire).toEqual(['1', '2', '3', 'open event'])
    expect(socket.state.queued).toBe(0)
    expect(log).toEqual(['open'])
  })

  test('a send made during the flush goes after the queued frames', async () => {
    const { socket, received } = setup({ lazy: true })
    socket.send('queued-1')
    socket.send('queued-2')
    socket.subscribe('feed', { subscribe: () => (socket.send('during-flush'), { sub: 'feed' }) })
    await tick()
    expect(received).toEqual(['{"sub":"feed"}', '"queued-1"', '"queued-2"', '"during-flush"'])
  })

  test('queued frames survive a reconnect once each, in order', async () => {
    const { socket, received, client } = setup()
    await tick()
    client().close({ code: 1006, reason: '', wasClean: false })
    await tick()
    socket.send('a')
    socket.send('b')
    await tick(500)
    socket.send('c')
    await tick()
    expect(received).toEqual(['"a"', '"b"', '"c"'])
  })

  test('drop-oldest drops the oldest frame and reports it', async () => {
    const { socket, received, env } = setup({ lazy: true, queue: { maxMessages: 2 } })
    const seen = errors(socket)
    env.signal('offline')
    socket.connect()
    socket.send('a')
    socket.send('b')
    socket.send('c')
    env.signal('online')
    await tick()
    expect(seen.map((e) => [e.name, (e as QueueOverflowError).dropped])).toEqual([['QueueOverflowError', 'a']])
    expect(received).toEqual(['"b"', '"c"'])
  })

  test('drop-newest refuses the newest frame', async () => {
    const { socket, received, env } = setup({ lazy: true, queue: { maxMessages: 2, overflow: 'drop-newest' } })
    const seen = errors(socket)
    env.signal('offline')
    socket.connect()
    for (const m of ['a', 'b', 'c']) socket.send(m)
    env.signal('online')
    await tick()
    expect(seen.map((e) => (e as QueueOverflowError).dropped)).toEqual(['c'])
    expect(received).toEqual(['"a"', '"b"'])
  })

  test('maxBytes counts UTF-8 bytes as on the wire', async () => {
    // '"é"' is 4 bytes, '"ab"' is 4 bytes: two of them fill 8.
    const { socket, env } = setup({ lazy: true, queue: { maxBytes: 8 } })
    const seen = errors(socket)
    env.signal('offline')
    socket.connect()
    socket.send('é')
    socket.send('ab')
    expect([seen.length, socket.state.queued]).toEqual([0, 2])
    socket.send('x')
    expect(seen.map((e) => (e as QueueOverflowError).dropped)).toEqual(['é'])
    socket.send(new Uint8Array(9))
    expect(seen.length).toBe(2)
    expect(socket.state.queued).toBe(2)
  })

  test('ttl drops frames that waited too long, at flush time', async () => {
    const { socket, received, env } = setup({ lazy: true, queue: { ttl: 1000 } })
    const seen = errors(socket)
    env.signal('offline')
    socket.connect()
    socket.send('old')
    await tick(1500)
    socket.send('fresh')
    env.signal('online')
    await tick()
    expect(seen.map((e) => [e.name, (e as QueueOverflowError).dropped])).toEqual([['QueueOverflowError', 'old']])
    expect(received).toEqual(['"fresh"'])
  })

  test('queue: false drops while not open and reports it', async () => {
    const { socket, received } = setup({ queue: false })
    const seen = errors(socket)
    expect(socket.send('lost')).toBe(false)
    await tick()
    expect(seen.map((e) => (e as QueueOverflowError).dropped)).toEqual(['lost'])
    expect(received).toEqual([])
  })

  test('close() keeps the queue and a later connect() flushes it', async () => {
    const { socket, received, env } = setup({ lazy: true })
    env.signal('offline')
    socket.connect()
    socket.send('kept')
    socket.close()
    expect(socket.state.queued).toBe(1)
    env.signal('online')
    socket.connect()
    await tick()
    expect(received).toEqual(['"kept"'])
  })
})

describe('use after close', () => {
  test('send, sendRaw, request and subscribe report SocketClosedError without throwing', async () => {
    const { socket, received } = setup()
    const seen = errors(socket)
    await tick()
    socket.close()
    expect(socket.send('x')).toBe(false)
    expect(socket.sendRaw('y')).toBe(false)
    await expect(socket.request({ q: 1 })).rejects.toBeInstanceOf(SocketClosedError)
    const release = socket.subscribe('k', { subscribe: 'sub' })
    release()
    await tick()
    expect(seen.map((e) => [e.name, (e as SocketClosedError).dropped])).toEqual([
      ['SocketClosedError', 'x'],
      ['SocketClosedError', 'y'],
      ['SocketClosedError', { q: 1 }],
      ['SocketClosedError', undefined],
    ])
    expect([received, socket.state.queued]).toEqual([[], 0])
  })
})
