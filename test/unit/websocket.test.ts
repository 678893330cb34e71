import { describe, expect, expectTypeOf, test, vi } from 'vitest'
import ReconnectingWebSocket, { ReconnectingWebSocket as Named, type ReconnectingWebSocketOptions } from '../../src/websocket/index'
import { fakeEnvironment, mockServer, tick, useFakeTime } from './helpers'

useFakeTime()

/** Records what an app sees, with readyState at the time, as short strings. */
function record(ws: ReconnectingWebSocket) {
  const log: string[] = []
  ws.addEventListener('open', () => log.push(`open:${ws.readyState}`))
  ws.addEventListener('message', (event) => log.push(`message:${String(event.data)}`))
  ws.addEventListener('error', (event) => log.push(`error:${(event as Event & { message: string }).message === 'TIMEOUT' ? 'TIMEOUT' : 'failed'}`))
  ws.addEventListener('close', (event) => log.push(`close:${event.code}:${event.reason}:${ws.readyState}`))
  return log
}

/** A wrapper on a mock server, deterministic delays, a fake environment. */
function setup(options: ReconnectingWebSocketOptions = {}) {
  const mock = mockServer()
  const env = fakeEnvironment()
  const ws = new ReconnectingWebSocket(mock.url, undefined, {
    WebSocket: mock.WebSocket,
    environment: env.environment,
    minReconnectionDelay: 500,
    ...options,
    retry: { jitter: 'none', ...(options.retry as object) },
  })
  return { ...mock, env, ws, log: record(ws) }
}

/** Native sockets that never open (a stalled server), for connect timeouts. */
function stalled() {
  const created: Stuck[] = []
  class Stuck extends EventTarget {
    readyState = 0
    binaryType = 'blob'
    protocol = ''
    extensions = ''
    bufferedAmount = 0
    onopen = null
    onclose = null
    onmessage = null
    onerror = null
    constructor(readonly url: string) {
      super()
      created.push(this)
    }
    send() {}
    close() {
      this.readyState = 3
    }
  }
  return { created, WebSocket: Stuck }
}

const dropped = { code: 1006, reason: '', wasClean: false }

describe('the WebSocket interface', () => {
  test('is a WebSocket-typed EventTarget, the default and the named export', () => {
    const { ws } = setup()
    expect(ws).toBeInstanceOf(EventTarget)
    expect(Named).toBe(ReconnectingWebSocket)
    expectTypeOf(ws).toMatchTypeOf<WebSocket>()
  })

  test('has the four readyState constants, static and on instances', () => {
    const { ws } = setup()
    const constants = (target: { CONNECTING: number; OPEN: number; CLOSING: number; CLOSED: number }) => [target.CONNECTING, target.OPEN, target.CLOSING, target.CLOSED]
    expect([constants(ReconnectingWebSocket), constants(ws)]).toEqual([
      [0, 1, 2, 3],
      [0, 1, 2, 3],
    ])
  })

  test('is CONNECTING after construction, OPEN in open listeners, CLOSED in close listeners, then CONNECTING while it reconnects', async () => {
    const { ws, log, client } = setup()
    expect(ws.readyState).toBe(ws.CONNECTING)
    await tick()
    expect(ws.readyState).toBe(ws.OPEN)
    client().close(dropped)
    await tick()
    expect(ws.readyState).toBe(ws.CONNECTING)
    await tick(500)
    expect(log).toEqual(['open:1', 'close:1006::3', 'open:1'])
  })

  test('url is empty until there is a socket, then exactly the URL given', async () => {
    const mock = mockServer()
    const ws = new ReconnectingWebSocket(async () => mock.url, undefined, { WebSocket: mock.WebSocket, environment: fakeEnvironment().environment })
    expect(ws.url).toBe('')
    await tick()
    expect([ws.url, ws.readyState]).toEqual([mock.url, ws.OPEN])
  })

  test('url is the string given, not its resolved form', async () => {
    const { ws, url } = setup()
    expect(ws.url).toBe('')
    await tick()
    expect([ws.url, url.endsWith('/')]).toEqual([url, false])
  })

  test('protocol and extensions come from the native socket, protocols may be an async function', async () => {
    const mock = mockServer()
    mock.server.options!.selectProtocol = (protocols: string[]) => protocols[1]!
    const ws = new ReconnectingWebSocket(mock.url, async () => ['v1', 'v2'], { WebSocket: mock.WebSocket, environment: fakeEnvironment().environment })
    expect(ws.protocol).toBe('')
    await tick()
    expect([ws.protocol, ws.extensions]).toEqual(['v2', ''])
  })

  test('bufferedAmount counts what send queued while not open: string length, Blob.size, byteLength', async () => {
    const { ws, wire } = setup()
    ws.send('héllo')
    ws.send(new Blob(['abc']))
    ws.send(new ArrayBuffer(7))
    ws.send(new Uint16Array(2))
    expect(ws.bufferedAmount).toBe(5 + 3 + 7 + 4)
    await tick()
    expect([ws.bufferedAmount, wire.length]).toEqual([0, 4])
  })

  test('binaryType is blob by default and a value set before connecting holds on every native socket', async () => {
    const { ws, created, client } = setup()
    expect(ws.binaryType).toBe('blob')
    ws.binaryType = 'arraybuffer'
    await tick()
    client().close(dropped)
    await tick(500)
    expect([created.length, ...created.map((native) => native.binaryType), ws.binaryType]).toEqual([2, 'arraybuffer', 'arraybuffer', 'arraybuffer'])
  })

  test('binaryType set while connected applies now and after reconnects', async () => {
    const { ws, created, client } = setup()
    await tick()
    expect(created[0]!.binaryType).toBe('blob')
    ws.binaryType = 'arraybuffer'
    expect(created[0]!.binaryType).toBe('arraybuffer')
    client().close(dropped)
    await tick(500)
    expect(created[1]!.binaryType).toBe('arraybuffer')
  })

  test('binaryType with none set reads the native socket’s own default', async () => {
    const mock = mockServer()
    class NodeLike extends mock.WebSocket {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols)
        this.binaryType = 'nodebuffer' as BinaryType
      }
    }
    const ws = new ReconnectingWebSocket(mock.url, undefined, { WebSocket: NodeLike, environment: fakeEnvironment().environment })
    await tick()
    expect([ws.binaryType, mock.created[0]!.binaryType]).toEqual(['nodebuffer', 'nodebuffer'])
  })

  test('on… handlers survive reconnects and are called with the socket as this and target', async () => {
    const { ws, client } = setup()
    const seen: string[] = []
    ws.onopen = function (event) {
      seen.push(`open:${this === ws}:${event.target === ws}`)
    }
    ws.onclose = (event) => seen.push(`close:${event.code}`)
    ws.onmessage = (event) => seen.push(`message:${event.data}`)
    await tick()
    client().send('one')
    await tick()
    client().close(dropped)
    await tick(500)
    client().send('two')
    await tick()
    expect(seen).toEqual(['open:true:true', 'message:one', 'close:1006', 'open:true:true', 'message:two'])
  })

  test('addEventListener honours once, handleEvent objects and de-duplication; removeEventListener works', async () => {
    const { ws, client } = setup()
    const seen: string[] = []
    const twice = () => seen.push('fn')
    const object = { handleEvent: (event: Event) => seen.push(`object:${(event as MessageEvent).data}`) }
    const removed = () => seen.push('removed')
    ws.addEventListener('message', twice)
    ws.addEventListener('message', twice)
    ws.addEventListener('message', () => seen.push('once'), { once: true })
    ws.addEventListener('message', object)
    ws.addEventListener('message', removed)
    ws.removeEventListener('message', removed)
    await tick()
    client().send('a')
    client().send('b')
    await tick()
    expect(seen).toEqual(['fn', 'once', 'object:a', 'fn', 'object:b'])
  })
})

describe('events shaped like the native ones', () => {
  test('message events are MessageEvents carrying the data exactly as the native socket delivered it', async () => {
    const { ws, client } = setup()
    const got: unknown[] = []
    ws.onmessage = (event) => got.push(event instanceof MessageEvent, event.data)
    const bytes = new ArrayBuffer(3)
    await tick()
    client().send('{"not":"parsed"}')
    client().send(bytes)
    await tick()
    expect(got).toEqual([true, '{"not":"parsed"}', true, bytes])
    expect(got[3]).toBe(bytes)
  })

  test('a server close is a close event with its code, reason and wasClean, and reconnects even after 1008', async () => {
    const { ws, log, client, created } = setup()
    let event: CloseEvent | undefined
    let native: CloseEvent | undefined
    ws.onclose = (close) => (event = close)
    await tick()
    created[0]!.addEventListener('close', (close) => (native = close as CloseEvent))
    client().close({ code: 1008, reason: 'policy', wasClean: true })
    await tick()
    expect([event instanceof Event, event!.type]).toEqual([true, 'close'])
    expect([event!.code, event!.reason, event!.wasClean]).toEqual([1008, 'policy', native!.wasClean])
    await tick(500)
    expect([log, created.length]).toEqual([['open:1', 'close:1008:policy:3', 'open:1'], 2])
  })

  test('shouldReconnect decides after a server close', async () => {
    const { ws, log, client, created } = setup({ shouldReconnect: (close) => close.code !== 4001 })
    await tick()
    client().close({ code: 4001, reason: 'gone', wasClean: true })
    await tick(60_000)
    expect([log, ws.readyState, created.length]).toEqual([['open:1', 'close:4001:gone:3'], ws.CLOSED, 1])
  })

  test('partysocket’s shouldReconnectOnClose is taken as shouldReconnect', async () => {
    const { ws, log, client } = setup({ shouldReconnectOnClose: ({ code }) => code !== 4001 })
    await tick()
    client().close({ code: 4001, reason: 'gone', wasClean: true })
    await tick(60_000)
    expect([log, ws.readyState]).toEqual([['open:1', 'close:4001:gone:3'], ws.CLOSED])
  })

  test('each failed attempt is an error event; a connect timeout says TIMEOUT', async () => {
    const stuck = stalled()
    const ws = new ReconnectingWebSocket('ws://localhost:1', undefined, {
      WebSocket: stuck.WebSocket,
      environment: fakeEnvironment().environment,
      connectionTimeout: 3000,
      minReconnectionDelay: 500,
      maxRetries: 1,
      retry: { jitter: 'none' },
    })
    const log = record(ws)
    await tick(2900)
    expect(log).toEqual([])
    await tick(100)
    expect(log).toEqual(['error:TIMEOUT'])
    await tick(500 + 3000)
    expect([log, ws.readyState, stuck.created.length]).toEqual([['error:TIMEOUT', 'error:TIMEOUT', 'close:1006::3'], ws.CLOSED, 2])
  })

  test('an attempt that fails at once is an error event with another message', async () => {
    const ws = new ReconnectingWebSocket('ws://localhost:2', undefined, { WebSocket: mockServer().WebSocket, environment: fakeEnvironment().environment, maxRetries: 0 })
    const messages: string[] = []
    ws.onerror = (event) => messages.push((event as Event & { message: string }).message)
    await tick()
    expect(messages).toHaveLength(1)
    expect(messages[0]).toMatch(/^connect failed/)
  })

  test('events are never dispatched during the call that caused them', async () => {
    const { ws } = setup()
    await tick()
    const seen: string[] = []
    ws.onclose = () => seen.push('close')
    ws.close()
    seen.push('after close()')
    await tick()
    expect(seen).toEqual(['after close()', 'close'])
  })
})

describe('send', () => {
  test('writes strings, Blobs, ArrayBuffers, views and the empty string as-is', async () => {
    const { ws, wire } = setup()
    await tick()
    const blob = new Blob(['b'])
    const buffer = new ArrayBuffer(2)
    const view = new Uint8Array([1, 2, 3])
    for (const data of ['text', '', blob, buffer, view]) ws.send(data)
    expect(wire).toEqual(['text', '', blob, buffer, view])
    expect(wire[2]).toBe(blob)
    expect(wire[4]).toBe(view)
  })

  test('queues while not open and flushes first in first out on open, before the open event', async () => {
    const { ws, wire, client } = setup()
    ws.onopen = () => wire.push('(open event)')
    ws.send('1')
    ws.send('2')
    await tick()
    client().close(dropped)
    await tick()
    ws.send('3')
    await tick(500)
    expect(wire).toEqual(['1', '2', '(open event)', '3', '(open event)'])
  })

  test('maxEnqueuedMessages keeps the first messages and refuses later ones, as reconnecting-websocket does', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const { ws, wire } = setup({ maxEnqueuedMessages: 2 })
    for (const data of ['1', '2', '3']) ws.send(data)
    expect(ws.bufferedAmount).toBe(2)
    await tick()
    expect(wire).toEqual(['1', '2'])
    expect(warn).toHaveBeenCalledTimes(1)
    warn.mockRestore()
  })
})

describe('close', () => {
  test('on an open socket: CLOSING right after, one close event with the code and reason, CLOSED, no reconnection', async () => {
    const { ws, log, created } = setup()
    await tick()
    ws.close(4000, 'bye')
    expect(ws.readyState).toBe(ws.CLOSING)
    await tick(60_000)
    expect([log, ws.readyState, created.length]).toEqual([['open:1', 'close:4000:bye:3'], ws.CLOSED, 1])
  })

  test('three times in a row gives one close event', async () => {
    const { ws, log } = setup()
    await tick()
    ws.close()
    ws.close()
    ws.close(4001)
    await tick()
    expect(log).toEqual(['open:1', 'close:1000::3'])
  })

  test('from a close listener gives no second close event and stops the reconnection', async () => {
    const { ws, log, client, created } = setup()
    ws.addEventListener('close', () => ws.close(), { once: true })
    await tick()
    client().close(dropped)
    await tick(60_000)
    expect([log, ws.readyState, created.length]).toEqual([['open:1', 'close:1006::3'], ws.CLOSED, 1])
  })

  test('while CONNECTING: CLOSING, then one close event, and no open follows', async () => {
    const { ws, log, live } = setup()
    ws.close()
    expect(ws.readyState).toBe(ws.CLOSING)
    await tick(60_000)
    expect([log, ws.readyState, live()]).toEqual([['close:1000::3'], ws.CLOSED, 0])
  })

  test('while waiting to reconnect: one close event and no further attempt', async () => {
    const { ws, log, client, created } = setup()
    await tick()
    client().close(dropped)
    await tick()
    ws.close()
    await tick(60_000)
    expect([log, created.length]).toEqual([['open:1', 'close:1006::3', 'close:1000::3'], 1])
  })

  test('a send after close() is not written, and says so on the console', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const { ws, wire } = setup()
    await tick()
    ws.close()
    ws.send('late')
    await tick()
    expect(wire).toEqual([])
    expect(warn).toHaveBeenCalledTimes(1)
    warn.mockRestore()
  })
})

describe('calls from listeners', () => {
  test('close() from an error listener stops at once with one close event', async () => {
    const mock = mockServer()
    mock.stop()
    const ws = new ReconnectingWebSocket(mock.url, undefined, { WebSocket: mock.WebSocket, environment: fakeEnvironment().environment })
    const log = record(ws)
    ws.onerror = () => ws.close()
    await tick(60_000)
    expect([log, ws.readyState, mock.created.length]).toEqual([['error:failed', 'close:1000::3'], ws.CLOSED, 1])
  })

  test('reconnect() from a close listener leaves one native socket and opens once', async () => {
    const { ws, log, client, created, live } = setup()
    ws.addEventListener('close', () => ws.reconnect(), { once: true })
    await tick()
    client().close(dropped)
    await tick()
    expect([log, created.length, live()]).toEqual([['open:1', 'close:1006::3', 'open:1'], 2, 1])
  })

  test('send() from an open listener goes out after the queued messages', async () => {
    const { ws, wire } = setup()
    ws.onopen = () => ws.send('from open')
    ws.send('queued')
    await tick()
    expect(wire).toEqual(['queued', 'from open'])
  })
})

describe('reconnect', () => {
  test('on an open socket: CLOSING, a close event, then open again at once', async () => {
    const { ws, log, created, live } = setup()
    await tick()
    ws.reconnect()
    expect(ws.readyState).toBe(ws.CLOSING)
    await tick()
    expect([log, created.length, live()]).toEqual([['open:1', 'close:1000:reconnect:3', 'open:1'], 2, 1])
  })

  test('sends the code and reason given to the server', async () => {
    const { ws, client } = setup()
    await tick()
    const server = client()
    const closes: number[] = []
    server.on('close', ((event: CloseEvent) => void closes.push(event.code)) as () => void)
    ws.reconnect(4002, 'refresh')
    await tick()
    expect(closes).toEqual([4002])
  })

  test('after close() connects again', async () => {
    const { ws, log } = setup()
    await tick()
    ws.close()
    await tick()
    ws.reconnect()
    expect(ws.readyState).toBe(ws.CONNECTING)
    await tick()
    expect(log).toEqual(['open:1', 'close:1000::3', 'open:1'])
  })

  test('is cheap when called repeatedly: one native socket and one close event', async () => {
    const { ws, log, created } = setup()
    await tick()
    ws.reconnect()
    ws.reconnect()
    ws.reconnect()
    await tick()
    expect([log, created.length]).toEqual([['open:1', 'close:1000:reconnect:3', 'open:1'], 2])
  })

  test('then close() gives one close event and stops', async () => {
    const { ws, log, created } = setup()
    await tick()
    ws.reconnect()
    ws.close()
    await tick(60_000)
    expect([log, ws.readyState, created.length]).toEqual([['open:1', 'close:1000:reconnect:3'], ws.CLOSED, 2])
  })

  test('while waiting to retry attempts at once and resets retryCount', async () => {
    const { ws, log, client, created } = setup()
    await tick()
    client().close(dropped)
    await tick()
    expect(ws.retryCount).toBe(1)
    ws.reconnect()
    expect(ws.retryCount).toBe(0)
    await tick()
    expect([log, created.length]).toEqual([['open:1', 'close:1006::3', 'open:1'], 2])
  })
})

describe('options of reconnecting-websocket and partysocket', () => {
  /** Times (ms since start) at which native sockets were created. */
  function attempts(options: ReconnectingWebSocketOptions) {
    const start = Date.now()
    const at: number[] = []
    const mock = mockServer()
    mock.stop()
    class Timed extends mock.WebSocket {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols)
        at.push(Date.now() - start)
      }
    }
    const ws = new ReconnectingWebSocket(mock.url, undefined, { WebSocket: Timed, environment: fakeEnvironment().environment, ...options })
    return { ws, at }
  }

  test('min/maxReconnectionDelay and reconnectionDelayGrowFactor set the delays; maxReconnectionDelay caps every one', async () => {
    const { at } = attempts({ minReconnectionDelay: 1000, reconnectionDelayGrowFactor: 3, maxReconnectionDelay: 5000, retry: { jitter: 'none' } })
    await vi.advanceTimersByTimeAsync(30_000)
    // Each failure takes mock-socket 4 ms; then 1000, 3000, 5000 (capped), 5000…
    expect(at.slice(0, 5)).toEqual([0, 1004, 4008, 9012, 14016])
  })

  test('keeps steadysocket’s jitter unless told otherwise', async () => {
    const { at } = attempts({ minReconnectionDelay: 1000, retry: { random: () => 0.5 } })
    await vi.advanceTimersByTimeAsync(2000)
    expect(at.slice(0, 2)).toEqual([0, 504])
  })

  test('maxRetries stops after that many retries with one close event', async () => {
    const { ws, at } = attempts({ maxRetries: 2, retry: { jitter: 'none' } })
    const log = record(ws)
    await vi.advanceTimersByTimeAsync(60_000)
    expect([at.length, log, ws.readyState]).toEqual([3, ['error:failed', 'error:failed', 'error:failed', 'close:1000::3'], ws.CLOSED])
  })

  test('minUptime is how long a connection must stay open before retryCount resets', async () => {
    const { ws, client } = setup({ minUptime: 2000, reconnectionDelayGrowFactor: 2 })
    await tick()
    client().close(dropped)
    await tick(500)
    client().close(dropped)
    await tick(1000)
    expect(ws.retryCount).toBe(2)
    await tick(1800)
    expect(ws.retryCount).toBe(2)
    await tick(300)
    expect(ws.retryCount).toBe(0)
  })

  test('startClosed makes no connection until reconnect(), and keeps what was sent for then', async () => {
    const { ws, log, created, wire } = setup({ startClosed: true })
    expect(ws.readyState).toBe(ws.CLOSED)
    ws.send('early')
    expect(ws.bufferedAmount).toBe(5)
    ws.close()
    await tick(60_000)
    expect([created.length, log]).toEqual([0, []])
    ws.reconnect()
    expect(ws.readyState).toBe(ws.CONNECTING)
    await tick()
    expect([log, wire, ws.bufferedAmount]).toEqual([['open:1'], ['early'], 0])
  })

  test('debug takes a logger that gets the lifecycle lines', async () => {
    const lines: unknown[][] = []
    const { ws } = setup({ debug: (...line) => lines.push(line) })
    await tick()
    expect(ws.readyState).toBe(ws.OPEN)
    expect(lines.flat()).toContain('open')
  })

  test('reads globalThis.WebSocket when it connects, not before', async () => {
    const mock = mockServer()
    vi.stubGlobal('WebSocket', undefined)
    const ws = new ReconnectingWebSocket(async () => mock.url, undefined, { environment: fakeEnvironment().environment })
    vi.stubGlobal('WebSocket', mock.WebSocket)
    await tick()
    vi.unstubAllGlobals()
    expect([ws.readyState, mock.created.length]).toEqual([ws.OPEN, 1])
  })

  test('a missing WebSocket fails the attempt with an error that says what to pass', async () => {
    vi.stubGlobal('WebSocket', undefined)
    const ws = new ReconnectingWebSocket('ws://localhost:3', undefined, { environment: fakeEnvironment().environment, maxRetries: 0 })
    const errors: Event[] = []
    ws.onerror = (event) => errors.push(event)
    await tick()
    vi.unstubAllGlobals()
    const { error } = errors[0] as Event & { error: Error }
    expect(String((error.cause as Error).message)).toContain('set options.WebSocket')
  })

  test('ignores keys it does not know, so a subclass can pass its own', async () => {
    const { ws, log } = setup({ party: 'room-1', host: 'example.com' } as ReconnectingWebSocketOptions)
    await tick()
    expect([log, ws.readyState]).toEqual([['open:1'], ws.OPEN])
  })

  test('a subclass that overrides public methods works: the constructor calls none of them', async () => {
    const mock = mockServer()
    const calls: string[] = []
    class Party extends ReconnectingWebSocket {
      constructor(readonly room: string) {
        // Read when the first attempt starts: after the subclass constructor.
        super(() => (this.room === 'lobby' ? mock.url : 'ws://localhost:9'), undefined, { WebSocket: mock.WebSocket, environment: fakeEnvironment().environment, room } as ReconnectingWebSocketOptions)
      }
      override reconnect(code?: number, reason?: string) {
        calls.push('reconnect')
        super.reconnect(code, reason)
      }
      override close(code?: number, reason?: string) {
        calls.push('close')
        super.close(code, reason)
      }
      override addEventListener(...args: Parameters<EventTarget['addEventListener']>) {
        calls.push('addEventListener')
        super.addEventListener(...args)
      }
    }
    const party = new Party('lobby')
    expect(calls).toEqual([])
    await tick()
    expect([party.readyState, party.url]).toEqual([party.OPEN, mock.url])
    party.reconnect()
    await tick()
    expect([calls, party.readyState]).toEqual([['reconnect'], party.OPEN])
  })
})

describe('steadysocket’s own options', () => {
  test('heartbeat finds a silent connection dead and reconnects; pongs are not messages', async () => {
    const { ws, log, server } = setup({ heartbeat: { interval: 1000, timeout: 500 } })
    let answer = true
    server.on('connection', (socket) => socket.on('message', (data) => answer && data === 'ping' && socket.send('pong')))
    ws.addEventListener('close', () => (answer = true))
    await tick(1000)
    answer = false
    await tick(1000 + 500 + 500)
    expect(log).toEqual(['open:1', 'error:failed', 'close:4000:heartbeat timeout:3', 'open:1'])
  })

  test('offline waits without attempts and reconnects when online', async () => {
    const { ws, log, client, env, created } = setup()
    await tick()
    env.signal('offline')
    client().close(dropped)
    await tick(60_000)
    expect([ws.readyState, created.length]).toEqual([ws.CONNECTING, 1])
    env.signal('online')
    await tick()
    expect(log).toEqual(['open:1', 'close:1006::3', 'open:1'])
  })
})
