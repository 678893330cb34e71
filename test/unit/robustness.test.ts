import { describe, expect, test, vi } from 'vitest'
import { createSocket } from '../../src/index'
import { fakeEnvironment, mockServer, setup, tick, useFakeTime } from './helpers'

useFakeTime()

// Issue 9: Infinity means never; app callbacks that throw are reported and the socket goes on.

describe('time options', () => {
  test('Infinity never fires: connectTimeout, request.timeout, heartbeat interval and timeout, stableAfter, queue ttl', async () => {
    const s = setup({
      connectTimeout: Infinity,
      request: { timeout: Infinity },
      heartbeat: { interval: Infinity, timeout: Infinity },
      retry: { stableAfter: Infinity },
      queue: { ttl: Infinity },
    })
    s.server.on('connection', (client) => client.on('message', (data) => data === 'ping' && client.send('pong')))
    const spy = vi.spyOn(globalThis, 'setTimeout')
    const request = s.socket.request({ q: 1 })
    let settled = false
    request.then(() => (settled = true), () => (settled = true))
    await tick()
    await tick(30 * 24 * 3600 * 1000)
    expect([settled, s.socket.state.status, s.log]).toEqual([false, 'open', ['open']])
    // No timer with a delay a browser would read as "now".
    expect(spy.mock.calls.filter(([, ms]) => ms === Infinity || (ms ?? 0) > 2 ** 31 - 1)).toEqual([])
    spy.mockRestore()
  })

  test('a delay over 2^31−1 ms waits as long as it says', async () => {
    const s = setup({ request: { timeout: 2 ** 31 + 1000 } })
    await tick()
    let error: unknown
    s.socket.request({ q: 1 }).catch((e) => (error = e))
    await tick(2 ** 31 - 10)
    expect(error).toBeUndefined()
    await tick(2000)
    expect((error as Error).name).toBe('TimeoutError')
  })
})

describe('app callbacks that throw are reported and the socket goes on', () => {
  const boom = () => {
    throw new Error('app bug')
  }

  test('url and protocols functions: the attempt fails and is retried', async () => {
    const mock = mockServer()
    let calls = 0
    const errors: string[] = []
    const socket = createSocket(() => (++calls === 1 ? boom() : mock.url), {
      WebSocket: mock.WebSocket,
      environment: fakeEnvironment().environment,
      protocols: () => (calls === 2 ? boom() : undefined),
      retry: { initialDelay: 100, jitter: 'none' },
      // The first attempt starts inside createSocket.
      on: { error: (e) => errors.push(e.message) },
    })
    await tick(1000)
    expect(socket.state.status).toBe('open')
    expect(errors.map((m) => m.includes('app bug'))).toEqual([true, true])
  })

  test('isPong and ping: reported, and the heartbeat keeps running', async () => {
    const s = setup({ heartbeat: { interval: 1000, timeout: 500, isPong: (d) => (d === 'boom' ? boom() : d === 'pong'), ping: () => 'ping' } })
    s.server.on('connection', (client) => client.on('message', (data) => data === 'ping' && client.send('pong')))
    const errors: string[] = []
    s.socket.on('error', (e) => errors.push(e.message))
    await tick()
    s.client().send('boom')
    await tick(3000)
    expect(s.socket.state.status).toBe('open')
    expect(errors.some((m) => m.includes('app bug'))).toBe(true)
    expect(s.wire.filter((d) => d === 'ping').length).toBeGreaterThanOrEqual(3)
  })

  test('shouldReconnect: reported, and the default policy decides', async () => {
    const s = setup({ shouldReconnect: boom })
    s.socket.on('error', () => {})
    await tick()
    s.client().close({ code: 1001, reason: '', wasClean: true })
    await tick(1000)
    expect(s.socket.state.status).toBe('open')
  })

  test('match, subscription spec functions, codecs and validators: each frame reported, later ones delivered', async () => {
    let decodes = 0
    const s = setup<unknown, unknown>({
      codec: { encode: (m) => (m === 'bad' ? boom() : JSON.stringify(m)), decode: (d) => (++decodes === 1 ? boom() : JSON.parse(String(d))) },
      validate: (m): m is unknown => (m === 'invalid' ? boom() : true),
    })
    const errors: string[] = []
    s.socket.on('error', (e) => errors.push(e.name))
    const got: unknown[] = []
    s.socket.subscribe('a', { subscribe: () => boom(), match: (m) => (m === 'x' ? boom() : true) }, (m) => got.push(m))
    await tick()
    expect(() => s.socket.send('bad')).toThrow('encode')
    for (const frame of ['"first"', '"invalid"', '"x"', '"ok"']) s.client().send(frame)
    await tick()
    expect(got).toEqual(['ok'])
    expect(errors).toEqual(['MessageError', 'MessageError', 'MessageError', 'SteadySocketError'])
    expect(s.socket.state.status).toBe('open')
  })
})

describe('listeners added or removed during an emit', () => {
  test('a listener added during an emit is not called for it; one removed before its turn is not called', async () => {
    const s = setup()
    const calls: string[] = []
    let offB = () => {}
    s.socket.on('open', () => {
      calls.push('a')
      s.socket.on('open', () => calls.push('added'))
      offB()
    })
    offB = s.socket.on('open', () => calls.push('b'))
    await tick()
    expect(calls).toEqual(['a'])
  })
})
