import { EventEmitter } from 'node:events'
import { createServer } from 'node:http'
import { WebSocket, WebSocketServer } from 'ws'
import { createPubSub } from './pubsub.js'
import { checkLoopback, checkPort, waitUntil, wsUrl } from './wait.js'

const MODES = ['echo', 'pubsub']

/**
 * @typedef {{ conn: number, data: string | Buffer, binary: boolean }} LogEntry
 * @typedef {{ conn: number, code: number, reason: string }} CloseEntry
 * @typedef {{ conn: number, url: string, protocol: string }} Handshake
 */

/** Same rule as `ws`: codes a close frame may carry. */
const isSendableCode = (/** @type {number} */ code) =>
  (Number.isInteger(code) && code >= 1000 && code <= 1014 && ![1004, 1005, 1006].includes(code)) ||
  (Number.isInteger(code) && code >= 3000 && code <= 4999)

/**
 * Starts a real WebSocket server on loopback, with switches to misbehave on demand.
 * @param {{ port?: number, host?: string, mode?: 'echo' | 'pubsub' }} [options]
 */
export async function startServer(options = {}) {
  const host = checkLoopback(options.host ?? '127.0.0.1', 'startServer({ host })')
  let port = checkPort(options.port ?? 0, 'startServer({ port })')
  const mode = options.mode ?? 'echo'
  if (!MODES.includes(mode)) {
    throw new TypeError(`startServer({ mode }): expected 'echo' or 'pubsub', got ${String(mode)}`)
  }

  const events = new EventEmitter().setMaxListeners(0)
  const changed = () => events.emit('change')
  /** @type {LogEntry[]} */
  const log = []
  /** @type {CloseEntry[]} */
  const closes = []
  /** @type {Handshake[]} */
  const handshakes = []
  /** @type {Set<import('node:net').Socket>} every TCP socket, upgraded or not */
  const sockets = new Set()
  /** @type {Set<import('node:net').Socket>} */
  const stalled = new Set()
  /** @type {Set<WebSocket>} */
  const clients = new Set()
  let totalConnections = 0
  let refusing = false
  let stalling = false
  let silent = false
  let listening = false
  let closed = false
  /** @type {Promise<void>} serialises start/stop so concurrent restarts cannot interleave */
  let lifecycle = Promise.resolve()

  const pubsub = createPubSub({ isSilent: () => silent })
  // autoPong off so `silent` can swallow protocol-level pings too.
  const wss = new WebSocketServer({ noServer: true, autoPong: false, clientTracking: false })
  const http = createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' }).end('WebSocket upgrade required\n')
  })

  http.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.once('close', () => {
      sockets.delete(socket)
      if (stalled.delete(socket)) changed()
    })
  })

  http.on('upgrade', (req, socket, head) => {
    if (refusing) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n', () =>
        socket.destroy(),
      )
      return
    }
    if (stalling) {
      stalled.add(/** @type {import('node:net').Socket} */ (socket))
      changed()
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const conn = ++totalConnections
      clients.add(ws)
      handshakes.push({ conn, url: req.url ?? '/', protocol: ws.protocol })
      ws.on('error', () => {})
      ws.on('ping', (data) => {
        if (!silent) ws.pong(data)
      })
      ws.on('message', (raw, binary) => {
        const data = binary ? /** @type {Buffer} */ (raw) : raw.toString()
        log.push({ conn, data, binary })
        changed()
        if (silent) return
        if (mode === 'echo') ws.send(data, { binary })
        else pubsub.handle(ws, data, binary)
      })
      ws.once('close', (code, reason) => {
        clients.delete(ws)
        pubsub.forget(ws)
        closes.push({ conn, code, reason: reason.toString() })
        changed()
      })
      changed()
    })
  })

  const listen = () =>
    new Promise((resolve, reject) => {
      const onError = (/** @type {NodeJS.ErrnoException} */ error) => {
        reject(new Error(`test server: cannot listen on ${host}:${port}: ${error.code ?? error.message}`, { cause: error }))
      }
      http.once('error', onError)
      http.listen(port, host, () => {
        http.off('error', onError)
        const address = http.address()
        if (address && typeof address === 'object') port = address.port
        listening = true
        changed()
        resolve(undefined)
      })
    })

  const dropAll = () => {
    for (const socket of sockets) socket.destroy()
  }

  const unlisten = () =>
    new Promise((resolve) => {
      if (!listening) {
        dropAll()
        resolve(undefined)
        return
      }
      listening = false
      // close() waits for every connection to end; destroying them makes that immediate.
      http.close(() => {
        changed()
        resolve(undefined)
      })
      dropAll()
    })

  const serial = (/** @type {() => Promise<unknown>} */ step) => {
    const next = lifecycle.then(step)
    lifecycle = next.then(
      () => {},
      () => {},
    )
    return next.then(() => {})
  }

  /** @param {string} what */
  const describe = (what) =>
    `${what}; now connections=${clients.size}, totalConnections=${totalConnections}, log=${log.length}, listening=${listening}`

  /** @type {Promise<void> | undefined} */
  let closing

  /** @type {import('./index.js').TestServer} */
  const server = {
    get url() {
      return wsUrl(host, port)
    },
    get port() {
      return port
    },
    host,
    mode,
    get connections() {
      return clients.size
    },
    get totalConnections() {
      return totalConnections
    },
    get stalled() {
      return stalled.size
    },
    get listening() {
      return listening
    },
    log,
    closes,
    handshakes,
    clearLog() {
      log.length = 0
      closes.length = 0
      handshakes.length = 0
      changed()
    },
    /**
     * @param {(s: import('./index.js').TestServer) => boolean} predicate
     * @param {number} [timeoutMs]
     */
    waitFor(predicate, timeoutMs = 5000) {
      return waitUntil(events, () => predicate(server), timeoutMs, () => describe(`waiting for ${predicate}`))
    },
    /** @param {number} n @param {number} [timeoutMs] */
    waitForConnections(n, timeoutMs = 5000) {
      return waitUntil(events, () => clients.size === n, timeoutMs, () => describe(`waiting for connections === ${n}`))
    },
    /** @param {number} n @param {number} [timeoutMs] */
    waitForLog(n, timeoutMs = 5000) {
      return waitUntil(events, () => log.length >= n, timeoutMs, () => describe(`waiting for log.length >= ${n}`))
    },
    dropAll,
    /** @param {number} code @param {string} [reason] */
    closeAll(code, reason = '') {
      if (!isSendableCode(code)) {
        throw new RangeError(
          `closeAll: code ${code} cannot be sent in a close frame; use 1000-1014 (not 1004-1006) or 3000-4999, or dropAll() for 1006`,
        )
      }
      if (Buffer.byteLength(reason) > 123) {
        throw new RangeError(`closeAll: reason is ${Buffer.byteLength(reason)} bytes; a close frame allows at most 123`)
      }
      for (const ws of clients) ws.close(code, reason)
    },
    stop() {
      return serial(unlisten)
    },
    start() {
      return serial(async () => {
        if (closed) throw new Error('test server: start() after close(); start a new server with startServer()')
        if (!listening) await listen()
      })
    },
    restart() {
      return serial(async () => {
        if (closed) throw new Error('test server: restart() after close(); start a new server with startServer()')
        await unlisten()
        await listen()
      })
    },
    /** @param {boolean} on */
    refuse(on) {
      refusing = on
    },
    /** @param {boolean} on */
    stall(on) {
      stalling = on
    },
    /** @param {boolean} on */
    silent(on) {
      silent = on
    },
    /**
     * @param {string | Buffer | ArrayBuffer | ArrayBufferView} data
     * @param {{ binary?: boolean }} [opts]
     * @returns {number} how many clients it was sent to
     */
    sendRaw(data, opts = {}) {
      const binary = opts.binary ?? typeof data !== 'string'
      const frame = binary && typeof data === 'string' ? Buffer.from(data) : data
      let sent = 0
      for (const ws of clients) {
        if (ws.readyState !== WebSocket.OPEN) continue
        ws.send(frame, { binary })
        sent++
      }
      return sent
    },
    /** @param {string} topic @param {unknown} data */
    publish(topic, data) {
      if (mode !== 'pubsub') {
        throw new Error(`test server: publish() needs mode 'pubsub'; this server runs in '${mode}' mode`)
      }
      return pubsub.publish(topic, data)
    },
    close() {
      closing ??= serial(async () => {
        closed = true
        pubsub.dispose()
        await unlisten()
        wss.close()
      })
      return closing
    },
  }

  await server.start()
  return server
}
