import { describe, expect, test, vi } from 'vitest'
import { browserEnvironment, createSocket, type Environment } from '../../src/index'
import { fakeEnvironment, mockServer, record, setup, statuses, tick, useFakeTime } from './helpers'

useFakeTime()

const heartbeat = { interval: 1000, timeout: 500 }

/** Makes the mock server answer pings: 'ping' → 'pong' unless `silent()` is on. */
function pongs(mock: { server: { on: (e: 'connection', fn: (c: any) => void) => void } }) {
  let silent = false
  mock.server.on('connection', (client) =>
    client.on('message', (data: unknown) => {
      if (!silent && data === 'ping') client.send('pong')
    }),
  )
  return { silence: () => (silent = true), speak: () => (silent = false) }
}

describe('heartbeat', () => {
  test('opens only after the first ping is answered, then pings after interval of silence; pongs update rtt and are not messages', async () => {
    const s = setup({ heartbeat })
    pongs(s)
    const seen = statuses(s.socket)
    await tick()
    expect([s.wire, seen, s.socket.state.rtt]).toEqual([['ping'], ['connecting', 'open'], expect.any(Number)])
    await tick(1000)
    expect(s.wire).toEqual(['ping', 'ping'])
    expect(s.log).toEqual(['open'])
  })

  test('a server that never answers the first ping never opens: the attempt fails and nothing queued is written', async () => {
    const s = setup({ heartbeat })
    s.socket.send('queued')
    await tick(500)
    expect(s.wire).toEqual(['ping'])
    expect(s.log).toEqual(['error:TimeoutError', 'reconnecting:1:500'])
    expect(s.socket.state.queued).toBe(1)
  })

  test('any incoming frame proves liveness and postpones the ping', async () => {
    const s = setup({ heartbeat })
    pongs(s)
    await tick()
    for (let i = 0; i < 5; i++) {
      await tick(600)
      s.client().send(String(i))
    }
    expect(s.wire).toEqual(['ping'])
    expect(s.socket.state.status).toBe('open')
  })

  test('no frame within timeout after a ping: abandons at once, closes 4000 and reconnects', async () => {
    const s = setup({ heartbeat })
    const { silence, speak } = pongs(s)
    await tick()
    silence()
    await tick(1000 + 500)
    expect(s.log).toEqual(['open', 'error:TimeoutError', 'close:4000', 'reconnecting:1:500'])
    expect(s.socket.state.lastClose).toEqual({ code: 4000, reason: 'heartbeat timeout', wasClean: false })
    expect(s.created[0]!.onclose).toBeNull()
    expect(s.live()).toBe(0)
    speak()
    await tick(500)
    expect([s.socket.state.status, s.live()]).toEqual(['open', 1])
  })

  test('by default an echoed ping counts as a pong (echo servers)', async () => {
    const s = setup({ heartbeat: { ...heartbeat, ping: 'hb-1' } })
    s.server.on('connection', (client) => client.on('message', (data) => client.send(data as string)))
    await tick()
    await tick(3000)
    expect(s.log).toEqual(['open'])
    expect(s.socket.state.rtt).not.toBeNull()
  })

  test('isPong recognises a JSON pong, which is not delivered as a message', async () => {
    const s = setup({ heartbeat: { ...heartbeat, ping: '{"type":"ping"}', isPong: (d) => d === '{"type":"pong"}' } })
    s.server.on('connection', (client) => client.on('message', () => client.send('{"type":"pong"}')))
    await tick()
    await tick(5000)
    expect(s.log).toEqual(['open'])
    expect(s.wire.length).toBeGreaterThanOrEqual(4)
  })

  test('a ping function may return binary data, sent as-is', async () => {
    const ping = new Uint8Array([0x9])
    const s = setup({ heartbeat: { ...heartbeat, ping: () => ping, isPong: (d) => d instanceof ArrayBuffer } })
    await tick()
    expect(s.wire).toEqual([ping])
  })

  test('timers throttled by a hidden tab never cause a false timeout on a connection that delivered frames', async () => {
    // Every timer fires 20 s late, as in an intensively throttled background tab.
    const late: Environment = { ...fakeEnvironment().environment, setTimeout: (fn, ms) => setTimeout(fn, ms + 20_000) }
    const s = setup({ heartbeat, environment: late })
    pongs(s)
    await tick()
    for (let i = 0; i < 12; i++) {
      await tick(5000)
      s.client().send('"tick"')
    }
    expect(s.log.filter((line) => !line.startsWith('message'))).toEqual(['open'])
    expect(s.socket.state.status).toBe('open')
  })

  test('a late timer with the pong still undelivered gets one fresh ping before the connection is declared dead', async () => {
    const s = setup({ heartbeat })
    const { silence } = pongs(s)
    await tick()
    silence()
    // Freeze the page past the ping deadline: no frame arrives meanwhile.
    await tick(1000)
    expect(s.wire).toEqual(['ping', 'ping'])
    vi.setSystemTime(Date.now() + 60_000)
    await tick(500)
    expect(s.wire).toEqual(['ping', 'ping', 'ping'])
    expect(s.log).toEqual(['open'])
    await tick(500)
    expect(s.log).toEqual(['open', 'error:TimeoutError', 'close:4000', 'reconnecting:1:500'])
  })
})

describe('online and offline', () => {
  test('offline while not open: status offline, no attempts and none counted; online attempts at once', async () => {
    const mock = mockServer()
    mock.stop()
    const env = fakeEnvironment()
    const socket = createSocket(mock.url, { WebSocket: mock.WebSocket, environment: env.environment, retry: { initialDelay: 500, jitter: 'none' } })
    const log = record(socket)
    await tick()
    env.signal('offline')
    await tick(60_000)
    expect(socket.state).toMatchObject({ status: 'offline', attempt: 1, retryAt: null, online: false })
    expect(mock.created.length).toBe(1)
    env.signal('online')
    expect([mock.created.length, socket.state.attempt]).toEqual([2, 0])
    expect(log).toEqual(['error:ConnectionError', 'reconnecting:1:500'])
  })

  test('offline abandons an attempt in flight', async () => {
    const s = setup({ lazy: true })
    s.socket.connect()
    s.env.signal('offline')
    expect([s.live(), s.socket.state.status]).toEqual([0, 'offline'])
  })

  test('starts offline when the environment says so, and connects on online', async () => {
    const mock = mockServer()
    const env = fakeEnvironment(false)
    const socket = createSocket(mock.url, { WebSocket: mock.WebSocket, environment: env.environment })
    await tick(10_000)
    expect([socket.state.status, mock.created.length]).toEqual(['offline', 0])
    env.signal('online')
    await tick()
    expect(socket.state.status).toBe('open')
  })

  test('offline while open keeps the connection and pings at once with heartbeat on', async () => {
    const s = setup({ heartbeat: { interval: 25_000, timeout: 500 } })
    pongs(s)
    await tick()
    s.env.signal('offline')
    expect(s.wire).toEqual(['ping', 'ping'])
    expect(s.socket.state).toMatchObject({ status: 'open', online: false })
  })

  test('a stale offline does not wedge the socket: a frame proves the network, and a later drop reconnects', async () => {
    const s = setup({ heartbeat: { interval: 25_000, timeout: 500 } })
    pongs(s)
    await tick()
    s.env.signal('offline')
    await tick()
    expect(s.socket.state).toMatchObject({ status: 'open', online: true })
    s.client().close({ code: 1006, reason: '', wasClean: false })
    await tick(500)
    // The new connection opens once its first ping is answered.
    await tick()
    expect(s.socket.state.status).toBe('open')
  })

  test('online while open changes nothing but state.online', async () => {
    const s = setup()
    await tick()
    s.env.signal('online')
    expect([s.created.length, s.socket.state.status]).toEqual([1, 'open'])
  })
})

describe('visibility', () => {
  test('becoming visible while waiting to reconnect attempts now', async () => {
    const s = setup({ retry: { jitter: 'none', initialDelay: 30_000 } })
    await tick()
    s.client().close({ code: 1006, reason: '', wasClean: false })
    await tick()
    s.env.signal('visible')
    await tick()
    expect(s.log).toEqual(['open', 'close:1006', 'reconnecting:1:30000', 'open:again'])
  })

  test('becoming visible while open pings now with heartbeat on', async () => {
    const s = setup({ heartbeat: { interval: 25_000, timeout: 1000 } })
    pongs(s)
    await tick()
    s.env.signal('hidden')
    s.env.signal('visible')
    expect(s.wire).toEqual(['ping', 'ping'])
  })
})

describe('freeze and resume', () => {
  test('a socket the browser fails on resume reconnects at once, not after a backoff wait', async () => {
    const s = setup({ retry: { initialDelay: 30_000, jitter: 'none' } })
    await tick()
    s.env.signal('freeze')
    s.env.signal('resume')
    s.client().close({ code: 1006, reason: '', wasClean: false })
    await tick()
    expect(s.log).toEqual(['open', 'close:1006', 'reconnecting:1:0', 'open:again'])
  })

  test('resume verifies an open socket at once with a ping, and one whose deadline passed while frozen is dead at once', async () => {
    const s = setup({ heartbeat: { interval: 1000, timeout: 500 } })
    const { silence } = pongs(s)
    await tick()
    silence()
    s.env.signal('resume')
    expect(s.wire).toEqual(['ping', 'ping'])
    // Frozen: no timer ran, but the wall clock moved past the deadline.
    vi.setSystemTime(Date.now() + 10_000)
    s.env.signal('resume')
    expect(s.log).toEqual(['open', 'error:TimeoutError', 'close:4000', 'reconnecting:1:0'])
  })
})

describe('back/forward cache', () => {
  test('pagehide (persisted) closes with 1000 pagehide and suspends; pageshow reconnects and replays', async () => {
    const s = setup()
    const seen = statuses(s.socket)
    s.socket.subscribe('feed', { subscribe: 'sub' })
    await tick()
    s.env.signal('pagehide')
    expect(s.socket.state).toMatchObject({ status: 'reconnecting', retryAt: null })
    expect(s.created[0]!.readyState).toBeGreaterThanOrEqual(2)
    await tick(120_000)
    expect(s.created.length).toBe(1)
    s.env.signal('pageshow')
    await tick()
    expect(s.log).toEqual(['open', 'close:1000', 'open:again'])
    expect(seen).toEqual(['connecting', 'open', 'reconnecting', 'connecting', 'open'])
    expect(s.wire).toEqual(['"sub"', '"sub"'])
  })

  test('the browser environment reports only persisted page transitions', () => {
    const signals: string[] = []
    const stop = browserEnvironment().listen((signal) => signals.push(signal))
    const transition = (type: string, persisted: boolean) => {
      const event = new Event(type) as Event & { persisted: boolean }
      Object.defineProperty(event, 'persisted', { value: persisted })
      window.dispatchEvent(event)
    }
    transition('pagehide', false)
    transition('pagehide', true)
    transition('pageshow', true)
    window.dispatchEvent(new Event('offline'))
    window.dispatchEvent(new Event('online'))
    document.dispatchEvent(new Event('visibilitychange'))
    stop()
    window.dispatchEvent(new Event('offline'))
    expect(signals).toEqual(['pagehide', 'pageshow', 'offline', 'online', 'visible'])
  })

  test('the browser environment reports Page Lifecycle freeze and resume', () => {
    const signals: string[] = []
    const stop = browserEnvironment().listen((signal) => signals.push(signal))
    document.dispatchEvent(new Event('freeze'))
    document.dispatchEvent(new Event('resume'))
    stop()
    document.dispatchEvent(new Event('resume'))
    expect(signals).toEqual(['freeze', 'resume'])
  })

  test('close() removes every listener it added to window and document', async () => {
    const added = new Map<string, number>()
    const count = (target: EventTarget) => {
      const add = target.addEventListener.bind(target)
      const remove = target.removeEventListener.bind(target)
      vi.spyOn(target, 'addEventListener').mockImplementation((type, fn, o) => (added.set(type, (added.get(type) ?? 0) + 1), add(type, fn, o)))
      vi.spyOn(target, 'removeEventListener').mockImplementation((type, fn, o) => (added.set(type, (added.get(type) ?? 0) - 1), remove(type, fn, o)))
    }
    count(window)
    count(document)
    const mock = mockServer()
    const socket = createSocket(mock.url, { WebSocket: mock.WebSocket })
    await tick()
    const whileOpen = [...added.values()].reduce((a, b) => a + b, 0)
    socket.close()
    socket.connect()
    socket.close()
    vi.restoreAllMocks()
    expect(whileOpen).toBe(7)
    expect(Object.fromEntries(added)).toEqual({ online: 0, offline: 0, visibilitychange: 0, freeze: 0, resume: 0, pagehide: 0, pageshow: 0 })
  })
})
