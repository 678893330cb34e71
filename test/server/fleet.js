import { createServer } from 'node:http'
import { WebSocket, WebSocketServer } from 'ws'
import { startNginx } from './nginx.js'

/**
 * @typedef {{ backend: number, conn: number, client: string, frames: unknown[], closed: boolean }} FleetConnection
 * @typedef {{ backend: number, at: number }} Accept
 */

/**
 * One `ws` backend of a fleet. It speaks a tiny JSON protocol: `{type:'subscribe', topic}`
 * is answered `{type:'subscribed', topic}`; any object with an `id` is acknowledged with
 * `{id, type:'ack'}` (the default `isAck` of `deliver()` and the reply rule of `request()`).
 * @param {number} index
 * @param {(event: { type: 'accept' | 'frame' | 'close', connection: FleetConnection }) => void} onEvent
 */
async function startBackend(index, onEvent) {
  /** @type {Set<WebSocket>} */
  const clients = new Set()
  /** @type {Set<import('node:net').Socket>} */
  const sockets = new Set()
  let conns = 0
  let port = 0
  let listening = false
  const wss = new WebSocketServer({ noServer: true, clientTracking: false })
  const http = createServer((_req, res) => res.writeHead(426).end())
  http.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.once('close', () => sockets.delete(socket))
  })
  http.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      const client = new URL(req.url ?? '/', 'http://x').searchParams.get('client') ?? ''
      /** @type {FleetConnection} */
      const connection = { backend: index, conn: ++conns, client, frames: [], closed: false }
      clients.add(ws)
      ws.on('error', () => {})
      ws.on('message', (raw, binary) => {
        let frame
        try {
          frame = binary ? raw : JSON.parse(raw.toString())
        } catch {
          frame = raw.toString()
        }
        connection.frames.push(frame)
        onEvent({ type: 'frame', connection })
        if (ws.readyState !== WebSocket.OPEN || !frame || typeof frame !== 'object') return
        if (frame.type === 'subscribe') ws.send(JSON.stringify({ type: 'subscribed', topic: frame.topic }))
        else if ('id' in frame) ws.send(JSON.stringify({ id: frame.id, type: 'ack' }))
      })
      ws.once('close', () => {
        clients.delete(ws)
        connection.closed = true
        onEvent({ type: 'close', connection })
      })
      onEvent({ type: 'accept', connection })
    })
  })
  const listen = () =>
    new Promise((resolve, reject) => {
      http.once('error', reject)
      http.listen(port, '127.0.0.1', () => {
        http.off('error', reject)
        port = /** @type {import('node:net').AddressInfo} */ (http.address()).port
        listening = true
        resolve(undefined)
      })
    })
  const unlisten = () =>
    new Promise((resolve) => {
      for (const socket of sockets) socket.destroy()
      if (!listening) return resolve(undefined)
      listening = false
      http.close(() => resolve(undefined))
    })
  await listen()
  return {
    index,
    get port() {
      return port
    },
    get connections() {
      return clients.size
    },
    /**
     * A graceful shutdown as a deploy does it: the backend stops accepting, every client
     * gets close `code` with `reason`, the backend waits up to `graceMs` for the closing
     * handshakes, then drops what is left.
     * @param {number} code @param {string} reason @param {number} graceMs
     */
    async shutdown(code, reason, graceMs) {
      listening = false
      const stopped = new Promise((resolve) => http.close(() => resolve(undefined)))
      const closing = [...clients].map(
        (ws) =>
          new Promise((resolve) => {
            ws.once('close', resolve)
            ws.close(code, reason)
          }),
      )
      await Promise.race([Promise.all(closing), new Promise((resolve) => setTimeout(resolve, graceMs))])
      for (const socket of sockets) socket.destroy()
      await stopped
    },
    start: listen,
    close: async () => {
      await unlisten()
      wss.close()
    },
  }
}

/**
 * A load-balanced fleet on 127.0.0.1: `backends` `ws` servers behind one nginx (round
 * robin). Every accept is timestamped per backend; every connection keeps the frames it
 * received (parsed JSON), with the `?client=` of its URL.
 * @param {{ backends?: number }} [options]
 */
export async function startFleet({ backends: count = 3 } = {}) {
  /** @type {Accept[]} */
  const accepts = []
  /** @type {FleetConnection[]} */
  const connections = []
  /** @type {Set<() => void>} */
  const watchers = new Set()
  /** @type {Awaited<ReturnType<typeof startBackend>>[]} */
  const backends = []
  const onEvent = (/** @type {{ type: string, connection: FleetConnection }} */ { type, connection }) => {
    if (type === 'accept') {
      accepts.push({ backend: connection.backend, at: performance.now() })
      connections.push(connection)
    }
    for (const watch of watchers) watch()
  }
  let nginx
  try {
    for (let i = 0; i < count; i++) backends.push(await startBackend(i, onEvent))
    nginx = await startNginx({ upstreams: backends.map((b) => b.port) })
  } catch (error) {
    for (const backend of backends) await backend.close()
    throw error
  }
  const proxy = nginx
  return {
    url: proxy.url,
    backends,
    accepts,
    connections,
    /** Open connections, over all backends. */
    get open() {
      return backends.reduce((sum, b) => sum + b.connections, 0)
    },
    /**
     * Resolves when `check()` holds, re-checked on every accept, frame and close; rejects after `timeoutMs`.
     * @param {() => boolean} check @param {string | (() => string)} what @param {number} [timeoutMs]
     */
    waitFor(check, what, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const done = (/** @type {Error | undefined} */ error) => {
          clearTimeout(timer)
          watchers.delete(test)
          if (error) reject(error)
          else resolve(undefined)
        }
        const test = () => check() && done(undefined)
        const describe = () => (typeof what === 'function' ? what() : what)
        const timer = setTimeout(() => done(new Error(`fleet: timed out after ${timeoutMs} ms waiting for ${describe()}; nginx log: ${proxy.errors().slice(-500)}`)), timeoutMs)
        watchers.add(test)
        test()
      })
    },
    /**
     * Restarts the backends one at a time; each closes its clients with `code` and `reason`
     * and stays down `downtime` ms; the next one goes once `settled()` resolves.
     * @param {{ code?: number, reason: string, downtime: number, settled: () => Promise<unknown>, graceMs?: number }} options
     */
    async rollingDeploy({ code = 1012, reason, downtime, settled, graceMs = 2000 }) {
      for (const backend of backends) {
        await backend.shutdown(code, reason, graceMs)
        await new Promise((resolve) => setTimeout(resolve, downtime))
        await backend.start()
        await settled()
      }
    },
    /**
     * Accepts per backend in consecutive 100 ms buckets from `since` (performance.now() ms),
     * and the most accepts any backend took within any 100 ms (a sliding window).
     * @param {number} since
     */
    acceptCounts(since) {
      const perBackend = backends.map((b) => accepts.filter((a) => a.backend === b.index && a.at >= since).map((a) => a.at))
      const end = Math.max(since, ...accepts.map((a) => a.at))
      const buckets = perBackend.map((times) => {
        const counts = Array.from({ length: Math.ceil((end - since) / 100) + 1 }, () => 0)
        for (const at of times) counts[Math.floor((at - since) / 100)]++
        return counts
      })
      let busiest = 0
      for (const times of perBackend) {
        for (let i = 0, j = 0; i < times.length; i++) {
          while (times[i] - times[j] >= 100) j++
          busiest = Math.max(busiest, i - j + 1)
        }
      }
      return { buckets, busiest }
    },
    async close() {
      await proxy.close()
      for (const backend of backends) await backend.close()
    },
  }
}
