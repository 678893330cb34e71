import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import { createSocket, type SteadySocket } from '../../src/index'
import { countingEnvironment } from '../server/index.js'

// DESIGN 10: sockets, timers and listeners after 1,000 reconnect cycles are the same as
// after 1. Everything the core can hold on to is counted from the outside: native sockets
// (a counting subclass of `ws`), server connections, timers (the injected environment's
// setTimeout/clearTimeout), environment listeners, listeners on the native socket, and
// socket.on listeners (by how many calls one event makes).

const CYCLES = 1000
const SETTLE_MS = 5000

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function startServer() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await once(wss, 'listening')
  // Answers the heartbeat's pings, as a server must for a socket with heartbeat on to open.
  wss.on('connection', (ws) => {
    ws.on('error', () => {})
    ws.on('message', (data) => String(data) === 'ping' && ws.send('pong'))
  })
  cleanups.push(() => new Promise((resolve) => wss.close(resolve)))
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    connections: () => wss.clients.size,
    /** Destroys every TCP connection without a close frame: the client sees 1006. */
    dropAll: () => wss.clients.forEach((ws) => ws.terminate()),
    sendAll: (data: string) => wss.clients.forEach((ws) => ws.send(data)),
  }
}

/** Native sockets the core creates, counted while not yet closed, and weakly kept to check they can be freed. */
function countingWebSocket() {
  const live = new Set<WebSocket>()
  const created: WeakRef<WebSocket>[] = []
  class CountingWebSocket extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols)
      live.add(this)
      created.push(new WeakRef(this))
      this.once('close', () => live.delete(this))
    }
  }
  const events = ['open', 'message', 'close', 'error'] as const
  return {
    WebSocket: CountingWebSocket,
    live,
    /** Listeners the core left on the live native sockets (ours, the `close` counter, not included). */
    listeners: () => [...live].reduce((sum, ws) => sum + events.reduce((n, event) => n + ws.listenerCount(event), 0) - 1, 0),
    /**
     * Native sockets still in memory after full garbage collections; a socket that just
     * closed can be held for a moment by `ws`'s own pending callbacks, so this collects a
     * few times and returns the fewest seen (a leak keeps them all, whatever the wait).
     */
    async retained(expected: number) {
      let fewest = Infinity
      for (let i = 0; i < 20 && fewest > expected; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10))
        gc()
        await new Promise((resolve) => setImmediate(resolve))
        fewest = Math.min(fewest, created.filter((ref) => ref.deref() !== undefined).length)
      }
      return fewest
    },
  }
}


async function waitFor(condition: () => boolean, what: string) {
  const deadline = Date.now() + SETTLE_MS
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
}

const nextOpen = (socket: SteadySocket) =>
  new Promise<void>((resolve) => {
    const off = socket.on('open', () => {
      off()
      resolve()
    })
  })

async function setup() {
  const server = await startServer()
  const native = countingWebSocket()
  const env = countingEnvironment()
  const calls = { message: 0, churned: 0 }
  const socket = createSocket(server.url, {
    WebSocket: native.WebSocket,
    environment: env.environment,
    // No waiting between cycles; the heartbeat adds its own timer to the count.
    retry: { initialDelay: 0, jitter: 'none' },
    heartbeat: { interval: 60_000 },
  })
  cleanups.push(() => socket.close())
  socket.on('error', () => {})
  socket.on('message', () => calls.message++)
  await nextOpen(socket)

  /** One reconnect cycle; the app also adds and removes a listener, as a remounting component would. */
  async function cycle(how: 'drop' | 'reconnect') {
    const opened = nextOpen(socket)
    socket.on('message', () => calls.churned++)()
    if (how === 'drop') server.dropAll()
    else socket.reconnect()
    await opened
  }

  /** Everything counted, once the old connection has finished closing. */
  async function snapshot() {
    await waitFor(() => native.live.size === 1 && server.connections() === 1, 'one connection on each side')
    calls.message = calls.churned = 0
    server.sendAll('{"ping":1}')
    await waitFor(() => calls.message > 0, 'a message')
    return {
      status: socket.state.status,
      nativeSockets: native.live.size,
      nativeSocketsInMemory: await native.retained(1),
      serverConnections: server.connections(),
      timers: env.timers.size,
      environmentListeners: env.listeners.size,
      nativeSocketListeners: native.listeners(),
      messageListenerCalls: calls.message + calls.churned,
    }
  }

  return { socket, server, native, env, cycle, snapshot }
}

describe('after 1,000 reconnect cycles', () => {
  for (const how of ['drop', 'reconnect'] as const) {
    const name = how === 'drop' ? 'the server dropping the connection' : 'socket.reconnect()'
    it(`holds the same sockets, timers and listeners as after 1 (${name})`, { timeout: 120_000 }, async () => {
      const { cycle, snapshot } = await setup()
      await cycle(how)
      const afterOne = await snapshot()
      for (let i = 1; i < CYCLES; i++) await cycle(how)
      const afterThousand = await snapshot()

      expect(afterOne).toMatchObject({ status: 'open', nativeSockets: 1, nativeSocketsInMemory: 1, serverConnections: 1, environmentListeners: 1, messageListenerCalls: 1 })
      expect(afterThousand).toEqual(afterOne)
    })
  }

  it('releases every socket, timer and listener on close()', { timeout: 120_000 }, async () => {
    const { socket, server, native, env, cycle } = await setup()
    for (let i = 0; i < CYCLES; i++) await cycle(i % 2 ? 'drop' : 'reconnect')
    socket.close()
    await waitFor(() => native.live.size === 0 && server.connections() === 0, 'every connection closed')

    expect({
      status: socket.state.status,
      nativeSockets: native.live.size,
      nativeSocketsInMemory: await native.retained(0),
      serverConnections: server.connections(),
      timers: env.timers.size,
      environmentListeners: env.listeners.size,
    }).toEqual({ status: 'closed', nativeSockets: 0, nativeSocketsInMemory: 0, serverConnections: 0, timers: 0, environmentListeners: 0 })
  })
})
