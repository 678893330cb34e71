import { Server, WebSocket as MockWebSocket } from 'mock-socket'
import { afterEach, beforeEach, vi } from 'vitest'
import { createSocket, type EnvironmentSignal, type SocketOptions, type SteadySocket } from '../../src/index'

let port = 40000

/** Fake timers for every unit test; mock-socket opens inside a timer. */
export function useFakeTime() {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 })
  })
  afterEach(() => {
    vi.clearAllTimers()
    vi.useRealTimers()
  })
}

/** An environment the test drives: starts online unless told otherwise. */
export function fakeEnvironment(online = true) {
  const listeners = new Set<(signal: EnvironmentSignal) => void>()
  const environment = {
    online: () => online,
    listen(listener: (signal: EnvironmentSignal) => void) {
      listeners.add(listener)
      return () => void listeners.delete(listener)
    },
  }
  return {
    environment,
    get listeners() {
      return listeners.size
    },
    signal(signal: EnvironmentSignal) {
      if (signal === 'online' || signal === 'offline') online = signal === 'online'
      for (const listener of listeners) listener(signal)
    },
  }
}

/** A mock-socket server on a fresh URL and a WebSocket class that records every instance. */
export function mockServer() {
  const url = `ws://localhost:${port++}`
  const server = new Server(url)
  const created: MockWebSocket[] = []
  /** Frames in the order the client wrote them, synchronously (the server sees them later). */
  const wire: unknown[] = []
  class CountingWebSocket extends MockWebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols)
      created.push(this)
    }
    override send(data: Parameters<MockWebSocket['send']>[0]) {
      wire.push(data)
      super.send(data)
    }
  }
  const received: unknown[] = []
  server.on('connection', (client) => {
    client.on('message', (data) => received.push(data))
  })
  return {
    url,
    server,
    created,
    wire,
    received,
    WebSocket: CountingWebSocket,
    /** Native sockets not yet closed: proves "exactly one at a time". */
    live: () => created.filter((ws) => ws.readyState === MockWebSocket.CONNECTING || ws.readyState === MockWebSocket.OPEN).length,
    client: () => server.clients().at(-1)!,
    stop: () => server.stop(),
  }
}

/** Records events as short strings, for one `toEqual` per test. */
export function record(socket: SteadySocket<any, any>) {
  const log: string[] = []
  socket.on('open', ({ reconnect }) => log.push(reconnect ? 'open:again' : 'open'))
  socket.on('close', ({ code, willReconnect }) => log.push(`close:${code}${willReconnect ? '' : ':final'}`))
  socket.on('reconnecting', ({ attempt, delay }) => log.push(`reconnecting:${attempt}:${Math.round(delay)}`))
  socket.on('error', (error) => log.push(`error:${error.name}`))
  socket.on('message', (message) => log.push(`message:${JSON.stringify(message)}`))
  return log
}

/** Records every status the socket passes through. */
export function statuses(socket: SteadySocket<any, any>) {
  const seen: string[] = [socket.state.status]
  socket.on('state', (state) => {
    if (state.status !== seen.at(-1)) seen.push(state.status)
  })
  return seen
}

/** A socket on a mock server with a fixed backoff (500 ms doubling, no jitter) and a fake environment. */
export function setup<In = unknown, Out = unknown>(options: SocketOptions<In, Out> = {}) {
  const mock = mockServer()
  const env = fakeEnvironment()
  const socket = createSocket<In, Out>(mock.url, {
    WebSocket: mock.WebSocket,
    environment: env.environment,
    ...options,
    // A fixed policy, whatever the defaults are: tests read delays of 500, 1000, 2000…
    retry: options.retry === undefined || typeof options.retry === 'object' ? { initialDelay: 500, factor: 2, maxDelay: 30_000, jitter: 'none', ...options.retry } : options.retry,
  })
  return { ...mock, env, socket, log: record(socket) }
}

/** Advances fake time by `ms`, plus the few ms mock-socket takes to open or deliver. */
export const tick = (ms = 0) => vi.advanceTimersByTimeAsync(ms + 10)
