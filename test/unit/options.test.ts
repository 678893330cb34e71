import { describe, expect, test, vi } from 'vitest'
import { createSocket, type SocketOptions } from '../../src/index'
import { toWebSocketUrl } from '../../src/options'
import { fakeEnvironment, mockServer } from './helpers'

const { WebSocket, url } = mockServer()
const make = (options: Record<string, unknown>) => () =>
  createSocket(url, { WebSocket, environment: fakeEnvironment().environment, lazy: true, ...(options as SocketOptions) })

describe('options are validated at creation', () => {
  test.each([
    [{ connectTimeout: '5s' }, TypeError, /option connectTimeout got "5s" — use a number/],
    [{ connectTimeout: -1 }, RangeError, /option connectTimeout got -1 — use a number ≥ 0/],
    [{ connectTimeout: Number.NaN }, TypeError, /connectTimeout got NaN/],
    [{ retry: { maxDelay: -5 } }, RangeError, /option retry.maxDelay got -5/],
    [{ retry: { jitter: 'some' } }, TypeError, /option retry.jitter got "some" — use "full", "equal" or "none"/],
    [{ retry: 'yes' }, TypeError, /option retry got "yes" — use a boolean, a number or an object/],
    [{ retry: { random: 0.5 } }, TypeError, /retry.random got 0.5 — use a function/],
    [{ queue: { overflow: 'drop-all' } }, TypeError, /queue.overflow got "drop-all"/],
    [{ queue: { maxMessages: -1 } }, RangeError, /queue.maxMessages got -1/],
    [{ heartbeat: { interval: '1s' } }, TypeError, /heartbeat.interval got "1s"/],
    [{ heartbeat: { isPong: 'pong' } }, TypeError, /heartbeat.isPong got "pong" — use a function/],
    [{ binaryType: 'buffer' }, TypeError, /binaryType got "buffer" — use "arraybuffer" or "blob"/],
    [{ lazy: 'no' }, TypeError, /option lazy got "no" — use a boolean/],
    [{ codec: 'xml' }, TypeError, /option codec got "xml"/],
    [{ codec: { encode: JSON.stringify } }, TypeError, /option codec got an object — use "json", "text" or \{ encode, decode \}/],
    [{ validate: 42 }, TypeError, /option validate got 42 — use a Standard Schema or a type guard/],
    [{ protocols: 7 }, TypeError, /option protocols got 7/],
    [{ shouldReconnect: true }, TypeError, /shouldReconnect got true — use a function/],
    [{ request: { idField: 3 } }, TypeError, /request.idField got 3 — use a string/],
    [{ environment: { online: true } }, TypeError, /option environment got an object — use an object with online\(\) and listen\(\)/],
    [{ debug: 'verbose' }, TypeError, /option debug got "verbose"/],
  ])('%o is refused', (options, ErrorClass, message) => {
    expect(make(options)).toThrow(ErrorClass)
    expect(make(options)).toThrow(message)
  })

  test('a url that is neither a string, a URL nor a function is a TypeError', () => {
    expect(() => createSocket(42 as never, { WebSocket })).toThrow(/option url got 42/)
  })

  test('a missing WebSocket implementation says how to pass one', () => {
    const saved = globalThis.WebSocket
    // @ts-expect-error simulating a runtime without WebSocket
    delete globalThis.WebSocket
    try {
      expect(() => createSocket(url)).toThrow(/option WebSocket got undefined — use a WebSocket constructor function: this runtime has none \(in Node pass the "ws" package\)/)
    } finally {
      globalThis.WebSocket = saved
    }
  })

  test('accepts the shorthands', () => {
    for (const options of [{ retry: false }, { retry: 3 }, { retry: true }, { queue: false }, { heartbeat: true }, { heartbeat: false }])
      expect(make(options)().state.status).toBe('idle')
  })
})

describe('an unknown option is a TypeError naming the closest known one', () => {
  test.each([
    // reconnecting-websocket and partysocket
    ['maxRetries', 'retry: { maxAttempts }'],
    ['minReconnectionDelay', 'retry: { initialDelay }'],
    ['maxReconnectionDelay', 'retry: { maxDelay }'],
    ['reconnectionDelayGrowFactor', 'retry: { factor }'],
    ['connectionTimeout', 'connectTimeout'],
    ['minUptime', 'retry: { stableAfter }'],
    ['maxEnqueuedMessages', 'queue: { maxMessages }'],
    ['startClosed', 'lazy'],
    // react-use-websocket, socket.io, graphql-ws, centrifuge
    ['reconnectInterval', 'retry: { initialDelay }'],
    ['reconnectAttempts', 'retry: { maxAttempts }'],
    ['reconnectionAttempts', 'retry: { maxAttempts }'],
    ['retryAttempts', 'retry: { maxAttempts }'],
    ['reconnectionDelay', 'retry: { initialDelay }'],
    ['reconnectionDelayMax', 'retry: { maxDelay }'],
    ['maxReconnectDelay', 'retry: { maxDelay }'],
    ['randomizationFactor', 'retry: { jitter }'],
    ['autoConnect', 'lazy'],
    ['timeout', 'connectTimeout'],
    ['pingInterval', 'heartbeat: { interval }'],
    ['pingTimeout', 'heartbeat: { timeout }'],
    ['keepAlive', 'heartbeat: { interval }'],
    ['shouldRetry', 'shouldReconnect'],
    ['onMessage', 'on'],
    ['onClose', 'on'],
    // typos and options given at the wrong level
    ['hearbeat', 'heartbeat'],
    ['conectTimeout', 'connectTimeout'],
    ['binarytype', 'binaryType'],
    ['protocol', 'protocols'],
    ['webSocketImpl', 'WebSocket'],
    ['maxMessages', 'queue: { maxMessages }'],
    ['idField', 'request: { idField }'],
    ['stableAfter', 'retry: { stableAfter }'],
  ])('%s: did you mean `%s`?', (key, hint) => {
    const create = make({ [key]: 1 })
    expect(create).toThrow(TypeError)
    expect(create).toThrow(`createSocket: unknown option ${key} — did you mean \`${hint}\`?`)
  })

  test('inside a section, the message names the path and the closest option', () => {
    expect(make({ retry: { maxRetries: 3 } })).toThrow('unknown option retry.maxRetries — did you mean `retry: { maxAttempts }`?')
    expect(make({ heartbeat: { intervall: 5000 } })).toThrow('unknown option heartbeat.intervall — did you mean `heartbeat: { interval }`?')
    expect(make({ queue: { maxMesages: 10 } })).toThrow('unknown option queue.maxMesages — did you mean `queue: { maxMessages }`?')
  })

  test('a name like no option is still named', () => {
    expect(make({ zzz: 1 })).toThrow(new TypeError('createSocket: unknown option zzz'))
  })

  test('an unknown key whose value is undefined or null counts as not given', () => {
    expect(make({ maxRetries: undefined, startClosed: null })().state.status).toBe('idle')
  })

  test('every option of SocketOptions is known', () => {
    const every: Required<SocketOptions> = {
      protocols: 'chat',
      WebSocket,
      binaryType: 'blob',
      lazy: true,
      connectTimeout: 1000,
      retry: { initialDelay: 1, maxDelay: 2, factor: 2, jitter: 'none', maxAttempts: 3, maxElapsed: 10, stableAfter: 5, random: () => 0.5 },
      shouldReconnect: () => true,
      heartbeat: { interval: 1000, mode: 'always', timeout: 500, ping: 'p', isPong: () => false },
      queue: { maxMessages: 5, maxBytes: 100, overflow: 'drop-newest', ttl: 1000, store: { adopt: async () => [], put() {}, delete() {} } },
      codec: 'text',
      validate: (value: unknown): value is unknown => value !== undefined,
      request: { idField: 'ref', timeout: 100 },
      delivery: { inFlight: 1, ttl: 100, isAck: () => true },
      environment: fakeEnvironment().environment,
      on: { open() {} },
      debug: () => {},
    }
    expect(createSocket(url, every).state.status).toBe('idle')
  })
})

describe('url strings are read as browsers read them, at creation', () => {
  /** A WebSocket that records the URL it was given and never opens. */
  const opened: string[] = []
  class RecordingWebSocket {
    constructor(url: string | URL) {
      opened.push(String(url))
    }
    close() {}
  }
  const connect = (target: string | URL) => {
    opened.length = 0
    createSocket(target, { WebSocket: RecordingWebSocket as never, environment: fakeEnvironment().environment }).close()
    return opened[0]
  }

  test('http: and https: become ws: and wss:', () => {
    expect(connect('http://example.com/live')).toBe('ws://example.com/live')
    expect(connect('https://example.com/live?room=1')).toBe('wss://example.com/live?room=1')
    expect(connect(new URL('https://example.com/live'))).toBe('wss://example.com/live')
  })

  test('ws: and wss: URLs are kept', () => {
    expect(connect('wss://example.com:8443/live')).toBe('wss://example.com:8443/live')
  })

  test('a relative URL is resolved against the page', () => {
    const page = new URL(location.href)
    expect(connect('/live')).toBe(`${page.protocol === 'https:' ? 'wss' : 'ws'}://${page.host}/live`)
  })

  test('a URL without a ws:, wss:, http: or https: scheme is a TypeError', () => {
    expect(() => connect('localhost:8080')).toThrow(TypeError)
    expect(() => connect('localhost:8080')).toThrow('createSocket: option url got "localhost:8080" — use a ws:, wss:, http: or https: URL')
  })

  test('another scheme is a TypeError whose message leaves out the query string', () => {
    let message = ''
    try {
      connect('ftp://example.com/live?token=secret-token')
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toBe('createSocket: option url got "ftp://example.com/live" — use a ws:, wss:, http: or https: URL')
  })

  test('a relative URL with no page to resolve it against is a TypeError', () => {
    vi.stubGlobal('location', undefined)
    try {
      expect(() => connect('/live')).toThrow('createSocket: option url got "/live" — use a ws:, wss:, http: or https: URL')
    } finally {
      vi.unstubAllGlobals()
    }
  })

  test('what a url function returns is mapped the same way, at each attempt', () => {
    expect(connect((() => 'https://example.com/live') as never)).toBe('wss://example.com/live')
  })

  test('a url function that returns another scheme fails that attempt, with the reason in the error', () => {
    const errors: string[] = []
    const socket = createSocket(() => 'localhost:8080', {
      WebSocket: RecordingWebSocket as never,
      environment: fakeEnvironment().environment,
      on: { error: (error) => errors.push(`${error.name}: ${error.message}`) },
    })
    socket.close()
    expect(errors).toEqual([expect.stringMatching(/^ConnectionError: .*option url got "localhost:8080" — use a ws:, wss:, http: or https: URL/)])
  })

  test('toWebSocketUrl maps what a url function returns the same way', () => {
    expect(toWebSocketUrl('https://example.com/live?token=t')).toBe('wss://example.com/live?token=t')
    expect(() => toWebSocketUrl('mailto:someone@example.com')).toThrow(TypeError)
  })
})

describe('validation messages name what they got', () => {
  test('an array is "an array", not an object', () => {
    expect(() => createSocket('ws://x/', { heartbeat: [] as never, WebSocket: class {} as never })).toThrow(/option heartbeat got an array/)
  })

  test('a WebSocket option that is not a constructor says so, without claiming the runtime has none', () => {
    const make = () => createSocket('ws://x/', { WebSocket: 42 as never })
    expect(make).toThrow(/option WebSocket got 42 — use a WebSocket constructor function$/)
  })
})
