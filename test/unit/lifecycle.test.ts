import { describe, expect, test, vi } from 'vitest'
import { createSocket } from '../../src/index'
import { fakeEnvironment, mockServer, record, setup, statuses, tick, useFakeTime } from './helpers'

useFakeTime()

describe('lifecycle', () => {
  test('opens, then reconnects with backoff after the server drops the connection', async () => {
    const { socket, log, client } = setup()
    const seen = statuses(socket)
    let closedAt = 0
    socket.on('close', () => (closedAt = Date.now()))
    await tick()
    client().close({ code: 1006, reason: '', wasClean: false })
    await tick()
    expect(socket.state).toMatchObject({ status: 'reconnecting', attempt: 1, retryAt: closedAt + 500 })
    await tick(500)
    expect(log).toEqual(['open', 'close:1006', 'reconnecting:1:500', 'open:again'])
    expect(seen).toEqual(['connecting', 'open', 'reconnecting', 'connecting', 'open'])
  })

  test('keeps counting attempts for a connection that drops before stableAfter', async () => {
    const { log, client, socket } = setup()
    await tick()
    client().close({ code: 1006, reason: '', wasClean: false })
    await tick(500)
    client().close({ code: 1006, reason: '', wasClean: false })
    await tick(1000)
    expect(socket.state.attempt).toBe(2)
    await tick(5000)
    expect(socket.state.attempt).toBe(0)
    client().close({ code: 1006, reason: '', wasClean: false })
    await tick()
    expect(log).toEqual(['open', 'close:1006', 'reconnecting:1:500', 'open:again', 'close:1006', 'reconnecting:2:1000', 'open:again', 'close:1006', 'reconnecting:1:500'])
  })

  test('starts in idle when lazy and connects on the first send', async () => {
    const { socket, created, received } = setup({ lazy: true })
    await tick(1000)
    expect([socket.state.status, created.length]).toEqual(['idle', 0])
    expect(socket.send({ hello: 1 })).toBe(false)
    await tick()
    expect([socket.state.status, created.length, received]).toEqual(['open', 1, ['{"hello":1}']])
  })

  test('keeps the same state object until something changes', async () => {
    const { socket } = setup()
    const first = socket.state
    expect(socket.state).toBe(first)
    await tick()
    const opened = socket.state
    expect(opened).not.toBe(first)
    expect(first.status).toBe('connecting')
    socket.connect()
    expect(socket.state).toBe(opened)
  })

  test('registers listeners from the on option before the first attempt', () => {
    const states: string[] = []
    const { WebSocket, url } = mockServer()
    createSocket(url, { WebSocket, environment: fakeEnvironment().environment, on: { state: (s) => states.push(s.status) } })
    expect(states).toEqual(['connecting'])
  })
})

describe('one native socket at a time', () => {
  test('reconnect(), connect() and signals in a burst open one socket', async () => {
    const { socket, created, live, env } = setup()
    await tick()
    socket.reconnect()
    socket.reconnect()
    socket.connect()
    env.signal('online')
    env.signal('visible')
    expect(live()).toBe(1)
    await tick()
    expect([live(), created.length, socket.state.status]).toEqual([1, 3, 'open'])
  })

  test('an explicit attempt while waiting to retry replaces the timer instead of adding a socket', async () => {
    const { socket, created, live, client } = setup()
    await tick()
    client().close({ code: 1006, reason: '', wasClean: false })
    await tick()
    socket.connect()
    socket.reconnect()
    await tick(10_000)
    expect([live(), created.length]).toEqual([1, 3])
  })

  test('close() during a retry wait or while connecting leaves no socket and no timer behind', async () => {
    const { socket, created, live, client } = setup()
    await tick()
    client().close({ code: 1006, reason: '', wasClean: false })
    await tick()
    socket.close()
    await tick(60_000)
    socket.connect()
    socket.close()
    await tick(60_000)
    expect([live(), created.length, socket.state.status, vi.getTimerCount()]).toEqual([0, 2, 'closed', 0])
  })

  test('a late async url from an abandoned attempt never opens a socket', async () => {
    let resolveUrl!: (url: string) => void
    const { WebSocket, url, created } = mockServer()
    const socket = createSocket(() => new Promise<string>((resolve) => (resolveUrl = resolve)), {
      WebSocket,
      environment: fakeEnvironment().environment,
    })
    socket.close()
    resolveUrl(url)
    await tick()
    expect([created.length, socket.state.status]).toEqual([0, 'closed'])
  })
})

describe('connect(), reconnect() and close()', () => {
  test('reconnect() while open drops with 1000 and attempts at once, without a reconnecting event', async () => {
    const { socket, log, created } = setup()
    await tick()
    socket.reconnect()
    expect(created[0]!.readyState).toBeGreaterThanOrEqual(2)
    await tick()
    expect(log).toEqual(['open', 'close:1000', 'open:again'])
  })

  test('connect() while waiting to retry attempts now and resets the backoff', async () => {
    const { socket, log, client, created } = setup()
    await tick()
    client().close({ code: 1006, reason: '', wasClean: false })
    await tick()
    socket.connect()
    expect([created.length, socket.state.attempt]).toEqual([2, 0])
    await tick()
    expect(log).toEqual(['open', 'close:1006', 'reconnecting:1:500', 'open:again'])
  })

  test('close() stops for good until connect()', async () => {
    const { socket, log, created } = setup()
    await tick()
    socket.close(4001, 'bye')
    await tick(120_000)
    expect(socket.state).toMatchObject({ status: 'closed', lastClose: { code: 4001, reason: 'bye', wasClean: true } })
    socket.connect()
    await tick()
    expect(log).toEqual(['open', 'close:4001:final', 'open:again'])
    expect(created.length).toBe(2)
  })

  test('close() accepts only 1000 and 3000–4999 and short reasons', async () => {
    const { socket } = setup()
    for (const code of [999, 1001, 1006, 2999, 5000]) expect(() => socket.close(code)).toThrow(RangeError)
    expect(() => socket.close(1000, 'x'.repeat(124))).toThrow(/123 bytes/)
    expect(socket.state.status).toBe('connecting')
    socket.close(3000)
    expect(socket.state.lastClose?.code).toBe(3000)
  })

  test('methods work detached from the socket object', async () => {
    const { socket, received } = setup()
    const { send, close } = socket
    await tick()
    expect(send('x')).toBe(true)
    await tick()
    close()
    expect([received, socket.state.status]).toEqual([['"x"'], 'closed'])
  })
})

describe('url and protocols', () => {
  test('calls the url function before every attempt, with async results', async () => {
    const { WebSocket, url, client } = mockServer()
    const urlFn = vi.fn(async () => url)
    const socket = createSocket(urlFn, { WebSocket, environment: fakeEnvironment().environment, retry: { initialDelay: 500, factor: 2, jitter: 'none' } })
    await tick()
    client().close({ code: 1006, reason: '', wasClean: false })
    await tick(500)
    expect([urlFn.mock.calls.length, socket.state.status]).toEqual([2, 'open'])
  })

  test('retries with backoff when the url function throws or rejects', async () => {
    const { WebSocket, url } = mockServer()
    let calls = 0
    const socket = createSocket(
      () => {
        calls++
        if (calls === 1) throw new Error('no token')
        if (calls === 2) return Promise.reject(new Error('token service down'))
        return url
      },
      { WebSocket, environment: fakeEnvironment().environment, retry: { initialDelay: 500, factor: 2, jitter: 'none' }, lazy: true },
    )
    const log = record(socket)
    socket.connect()
    await tick(2000)
    expect(log).toEqual(['error:ConnectionError', 'reconnecting:1:500', 'error:ConnectionError', 'reconnecting:2:1000', 'open'])
  })

  test('calls the protocols function before every attempt', async () => {
    const { WebSocket, url, created, client } = mockServer()
    let n = 0
    createSocket(url, { WebSocket, environment: fakeEnvironment().environment, protocols: () => `v${++n}`, retry: { initialDelay: 500, factor: 2, jitter: 'none' } })
    await tick()
    client().close({ code: 1006, reason: '', wasClean: false })
    await tick(500)
    expect(created.map((ws) => ws.protocol)).toEqual(['v1', 'v2'])
  })
})

describe('backoff and giving up', () => {
  test('gives up after maxAttempts retries with a final close', async () => {
    const { WebSocket, url, stop, created } = mockServer()
    stop()
    const socket = createSocket(url, { WebSocket, environment: fakeEnvironment().environment, retry: { maxAttempts: 2, initialDelay: 500, factor: 2, jitter: 'none' } })
    const log = record(socket)
    await tick(10_000)
    expect(log).toEqual(['error:ConnectionError', 'reconnecting:1:500', 'error:ConnectionError', 'reconnecting:2:1000', 'error:ConnectionError', 'close:1000:final'])
    expect([socket.state.status, created.length]).toEqual(['closed', 3])
  })

  test('retry: false gives up after the first failure', async () => {
    const { WebSocket, url, stop } = mockServer()
    stop()
    const socket = createSocket(url, { WebSocket, environment: fakeEnvironment().environment, retry: false })
    const log = record(socket)
    await tick(10_000)
    expect(log).toEqual(['error:ConnectionError', 'close:1000:final'])
  })

  test('draws the delay from the injected random source', async () => {
    const { socket, log, client } = setup({ retry: { random: () => 0.25, initialDelay: 1000, jitter: 'full' } })
    await tick()
    client().close({ code: 1006, reason: '', wasClean: false })
    await tick()
    expect(log).toEqual(['open', 'close:1006', 'reconnecting:1:250'])
    expect(socket.state.status).toBe('reconnecting')
  })

  test('drops a socket stuck in CONNECTING after connectTimeout and retries', async () => {
    const stuck: StuckWebSocket[] = []
    class StuckWebSocket {
      readyState = 0
      binaryType = 'blob'
      onopen: unknown = null
      onclose: unknown = null
      onmessage: unknown = null
      onerror: unknown = null
      closed = false
      constructor() {
        stuck.push(this)
      }
      close() {
        this.closed = true
      }
      send() {}
    }
    const socket = createSocket('ws://stuck', { WebSocket: StuckWebSocket, environment: fakeEnvironment().environment, connectTimeout: 3000, retry: { initialDelay: 500, factor: 2, jitter: 'none' } })
    const log = record(socket)
    await tick(3000)
    expect(log).toEqual(['error:TimeoutError', 'reconnecting:1:500'])
    expect(stuck.map((ws) => [ws.closed, ws.onclose, ws.onopen])).toEqual([[true, null, null]])
    await tick(500)
    expect(stuck.length).toBe(2)
  })
})

describe('close codes', () => {
  test('reconnects after a server 1001 (redeploy)', async () => {
    const { log, client } = setup()
    await tick()
    client().close({ code: 1001, reason: 'going away', wasClean: false })
    await tick(500)
    expect(log).toEqual(['open', 'close:1001', 'reconnecting:1:500', 'open:again'])
  })

  test.each([1002, 1003, 1007, 1008, 1010, 4400, 4499])('stops after a fatal %i', async (code) => {
    const { socket, log, client, created } = setup()
    await tick()
    client().close({ code, reason: 'no', wasClean: false })
    await tick(60_000)
    expect(log).toEqual(['open', 'error:ConnectionError', `close:${code}:final`])
    expect([socket.state.status, created.length]).toEqual(['closed', 1])
  })

  test('asks shouldReconnect after a server close', async () => {
    const asked: number[] = []
    const { log, client } = setup({ shouldReconnect: ({ code }) => (asked.push(code), code !== 4001) })
    await tick()
    client().close({ code: 4500, reason: '', wasClean: false })
    await tick(500)
    client().close({ code: 4001, reason: '', wasClean: false })
    await tick(60_000)
    expect(asked).toEqual([4500, 4001])
    expect(log).toEqual(['open', 'close:4500', 'reconnecting:1:500', 'open:again', 'error:ConnectionError', 'close:4001:final'])
  })

  test('honours a retryAfter close reason, capped by maxDelay', async () => {
    const { log, client } = setup({ retry: { jitter: 'none', maxDelay: 8000 } })
    await tick()
    client().close({ code: 1013, reason: '{"retryAfter":2000}', wasClean: false })
    await tick(2000)
    client().close({ code: 1013, reason: '{"retryAfter":60000}', wasClean: false })
    await tick(8000)
    expect(log).toEqual(['open', 'close:1013', 'reconnecting:1:2000', 'open:again', 'close:1013', 'reconnecting:2:8000', 'open:again'])
  })
})

describe('listeners', () => {
  test('a listener that throws does not stop other listeners or the socket', async () => {
    const { socket, log } = setup()
    const order: string[] = []
    socket.on('open', () => {
      throw new Error('app bug')
    })
    socket.on('open', () => order.push('second'))
    await tick()
    expect(order).toEqual(['second'])
    expect(log).toEqual(['open', 'error:SteadySocketError'])
    expect(socket.state.status).toBe('open')
  })

  test('an error listener that throws goes to console.error', async () => {
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {})
    const { socket, client } = setup()
    socket.on('error', () => {
      throw new Error('handler bug')
    })
    await tick()
    client().send('{oops')
    expect(consoleError).toHaveBeenCalledOnce()
    expect(socket.state.status).toBe('open')
  })

  test('on() returns a remover that can be called twice', async () => {
    const { socket, client } = setup()
    const seen: unknown[] = []
    const off = socket.on('message', (m) => seen.push(m))
    await tick()
    client().send('1')
    off()
    off()
    client().send('2')
    expect(seen).toEqual([1])
  })

  test('warns on the console for every dropped frame when an error has no listener', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const { WebSocket, url, client } = mockServer()
    createSocket(url, { WebSocket, environment: fakeEnvironment().environment })
    await tick()
    client().send('{bad')
    client().send('{bad')
    expect(warn).toHaveBeenCalledTimes(2)
    expect(String(warn.mock.calls[0])).toContain('[steadysocket]')
  })

  test('debug logs lifecycle steps without message bodies or url queries', async () => {
    const lines: string[] = []
    const { WebSocket, url, client } = mockServer()
    const socket = createSocket(`${url}?token=SECRET`, { WebSocket, environment: fakeEnvironment().environment, debug: (...line) => lines.push(line.join(' ')) })
    await tick()
    socket.send({ password: 'hunter2' })
    client().send('{"card":"4242"}')
    client().close({ code: 1006, reason: '', wasClean: false })
    await tick()
    expect(lines.length).toBeGreaterThanOrEqual(3)
    expect(lines.join('\n')).not.toMatch(/SECRET|hunter2|4242/)
    expect(lines.join('\n')).toMatch(/connecting[\s\S]*open[\s\S]*reconnecting/)
  })
})
