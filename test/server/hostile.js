import { EventEmitter } from 'node:events'
import { createServer } from 'node:http'
import { WebSocketServer } from 'ws'
import { waitUntil } from './wait.js'

/**
 * @typedef {{
 *   upgrade?: (socket: import('node:net').Socket, n: number, req: import('node:http').IncomingMessage) => boolean | void,
 *   connection?: (ws: import('ws').WebSocket, n: number, req: import('node:http').IncomingMessage) => void,
 * }} HostileHandlers
 */

/**
 * A server on 127.0.0.1 that misbehaves as the test says. `upgrade(socket, n, req)` sees
 * every upgrade request first (n counts them from 1): returning `true` means it took the
 * socket over (answered it with HTTP, held it, destroyed it). Otherwise the upgrade is
 * accepted by `ws` and `connection(ws, n, req)` runs (n counts accepted connections).
 * @param {HostileHandlers} handlers
 */
export async function startHostile(handlers) {
  const events = new EventEmitter().setMaxListeners(0)
  const changed = () => events.emit('change')
  /** @type {Set<import('node:net').Socket>} */
  const sockets = new Set()
  let upgrades = 0
  let accepted = 0
  let open = 0
  let maxSockets = 0
  const wss = new WebSocketServer({ noServer: true, clientTracking: false, maxPayload: 64 * 1024 * 1024 })
  const http = createServer((_req, res) => res.writeHead(426).end())
  http.on('connection', (socket) => {
    sockets.add(socket)
    maxSockets = Math.max(maxSockets, sockets.size)
    socket.on('error', () => {})
    // A client that gives up on a held upgrade sends FIN; Node keeps such a socket half-open.
    socket.once('end', () => socket.destroy())
    socket.once('close', () => {
      sockets.delete(socket)
      changed()
    })
    changed()
  })
  http.on('upgrade', (req, socket, head) => {
    const n = ++upgrades
    changed()
    if (handlers.upgrade?.(/** @type {import('node:net').Socket} */ (socket), n, req)) return
    wss.handleUpgrade(req, socket, head, (ws) => {
      const id = ++accepted
      open++
      ws.on('error', () => {})
      ws.once('close', () => {
        open--
        changed()
      })
      changed()
      handlers.connection?.(ws, id, req)
    })
  })
  await new Promise((resolve) => http.listen(0, '127.0.0.1', () => resolve(undefined)))
  const { port } = /** @type {import('node:net').AddressInfo} */ (http.address())
  const server = {
    url: `ws://127.0.0.1:${port}`,
    port,
    /** Upgrade requests received. */
    get upgrades() {
      return upgrades
    },
    /** WebSocket connections accepted. */
    get accepted() {
      return accepted
    },
    /** WebSocket connections open now. */
    get open() {
      return open
    },
    /** TCP connections open now, upgraded or not. */
    get sockets() {
      return sockets.size
    },
    /** The most TCP connections open at once so far. */
    get maxSockets() {
      return maxSockets
    },
    /**
     * Resolves when `check()` holds, checked on every upgrade, open and close; rejects after `timeoutMs`.
     * @param {() => boolean} check @param {number} [timeoutMs]
     */
    waitFor(check, timeoutMs = 10_000) {
      return waitUntil(events, check, timeoutMs, () => `hostile server: upgrades=${upgrades} accepted=${accepted} open=${open} sockets=${sockets.size}`)
    },
    close() {
      return new Promise((resolve) => {
        for (const socket of sockets) socket.destroy()
        http.close(() => resolve(undefined))
        wss.close()
      })
    },
  }
  return server
}
