import { createServer } from 'node:http'
import { checkPort } from './wait.js'

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-allow-headers': '*',
}

class BadRequest extends Error {
  /** @param {string} message @param {number} [status] */
  constructor(message, status = 400) {
    super(message)
    this.status = status
  }
}

/** @param {URLSearchParams} q @param {string} [name] @param {string} [fallback] */
const flag = (q, name = 'on', fallback = '1') => {
  const value = q.get(name) ?? fallback
  if (['1', 'true', 'on'].includes(value)) return true
  if (['0', 'false', 'off'].includes(value)) return false
  throw new BadRequest(`${name}=${value}: expected 1/true/on or 0/false/off`)
}

/** @param {URLSearchParams} q @param {string} name @param {number} fallback */
const integer = (q, name, fallback) => {
  const raw = q.get(name)
  if (raw === null) return fallback
  const value = Number(raw)
  if (!Number.isInteger(value)) throw new BadRequest(`${name}=${raw}: expected an integer`)
  return value
}

/** @param {URLSearchParams} q @param {string} name @param {number} fallback @param {number} max */
const duration = (q, name, fallback, max) => {
  const value = integer(q, name, fallback)
  if (value < 0 || value > max) throw new BadRequest(`${name}=${value}: expected milliseconds from 0 to ${max}`)
  return value
}

/** Longest `down` / `for` / `ms` the control accepts, so a typo cannot park the demo for hours. */
const MAX_MS = 600000

/** @param {string} text */
const jsonOrText = (text) => {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/** @param {import('node:http').IncomingMessage} req */
const readBody = async (req) => {
  const chunks = []
  for await (const chunk of req) chunks.push(chunk)
  return Buffer.concat(chunks).toString()
}

/**
 * An HTTP endpoint on its own port (so it outlives server stops) that drives a test server
 * and proxy from a browser page or another process. Every answer is JSON with CORS headers.
 * @param {{ port?: number, server: import('./index.js').TestServer, proxy?: import('./index.js').FaultProxy }} options
 */
export async function startControl(options) {
  const { port = 0, server, proxy } = options ?? {}
  checkPort(port, 'startControl({ port })')
  if (!server) throw new TypeError('startControl({ server }): a TestServer from startServer() is required')

  const needProxy = () => {
    if (!proxy) throw new BadRequest('no proxy: pass { proxy } to startControl() to use /blackhole, /latency and /cut')
    return proxy
  }

  /** Timers of `/restart?down=` (the start) and `/blackhole?for=` (the heal); a later call of the same kind replaces it. */
  /** @type {{ start?: NodeJS.Timeout, heal?: NodeJS.Timeout }} */
  const pending = {}
  /** @param {'start' | 'heal'} kind @param {(() => unknown) | undefined} [fn] @param {number} [ms] */
  const schedule = (kind, fn, ms) => {
    clearTimeout(pending[kind])
    pending[kind] = fn && setTimeout(() => {
      pending[kind] = undefined
      Promise.resolve()
        .then(fn)
        .catch(() => {})
    }, ms)
  }

  const state = () => ({
    url: server.url,
    mode: server.mode,
    listening: server.listening,
    connections: server.connections,
    totalConnections: server.totalConnections,
    logLength: server.log.length,
    log: server.log.map((e) => ({
      conn: e.conn,
      binary: e.binary,
      data: e.binary ? Buffer.from(e.data).toString('base64') : e.data,
    })),
    closes: server.closes,
    proxy: proxy && {
      url: proxy.url,
      connections: proxy.connections,
      totalConnections: proxy.totalConnections,
      blackholed: proxy.blackholed,
      latency: proxy.latency,
    },
  })

  /** @type {Record<string, (q: URLSearchParams, body: string) => unknown>} */
  const routes = {
    '/drop': () => server.dropAll(),
    '/close': (q) => {
      try {
        server.closeAll(integer(q, 'code', 1000), q.get('reason') ?? '')
      } catch (error) {
        // closeAll's RangeError names what is wrong with the code or reason: the caller's mistake.
        if (error instanceof RangeError) throw new BadRequest(error.message)
        throw error
      }
    },
    '/restart': async (q) => {
      const down = duration(q, 'down', 0, MAX_MS)
      schedule('start')
      if (down === 0) return server.restart()
      await server.stop()
      schedule('start', () => server.start(), down)
      return { down }
    },
    '/stop': () => {
      schedule('start')
      return server.stop()
    },
    '/start': () => {
      schedule('start')
      return server.start()
    },
    '/refuse': (q) => server.refuse(flag(q)),
    '/stall': (q) => server.stall(flag(q)),
    '/silent': (q) => server.silent(flag(q)),
    '/send': (q, body) => {
      const data = q.get('data') ?? body
      return { sent: server.sendRaw(data, { binary: flag(q, 'binary', '0') }) }
    },
    '/publish': (q, body) => {
      const topic = q.get('topic')
      if (!topic) throw new BadRequest('publish needs ?topic=')
      return { seq: server.publish(topic, jsonOrText(q.get('data') ?? body)) }
    },
    '/blackhole': (q) => {
      const on = flag(q)
      const ms = q.has('for') ? duration(q, 'for', 0, MAX_MS) : undefined
      if (ms !== undefined && !on) throw new BadRequest('for= needs on=1: it is how long the blackhole lasts')
      const target = needProxy()
      target.blackhole(on)
      schedule('heal', ms === undefined ? undefined : () => target.blackhole(false), ms)
      return ms === undefined ? undefined : { for: ms }
    },
    '/latency': (q) => {
      if (!q.has('ms')) throw new BadRequest('latency needs ?ms= (milliseconds added each way; 0 turns it off)')
      needProxy().delay(duration(q, 'ms', 0, 60000))
    },
    '/cut': () => needProxy().cut(),
    '/clear': () => server.clearLog(),
    '/state': state,
  }

  const http = createServer(async (req, res) => {
    const send = (/** @type {number} */ status, /** @type {unknown} */ body) => {
      res.writeHead(status, { ...CORS, 'content-type': 'application/json' }).end(JSON.stringify(body))
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(204, CORS).end()
      return
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const route = routes[url.pathname]
    try {
      if (!route) throw new BadRequest(`no route ${url.pathname}; try one of ${Object.keys(routes).join(' ')}`)
      if (req.method !== 'GET' && req.method !== 'POST') throw new BadRequest(`${req.method}: use GET or POST`, 405)
      const body = req.method === 'POST' ? await readBody(req) : ''
      const result = await route(url.searchParams, body)
      send(200, { ok: true, ...(result && typeof result === 'object' ? result : {}) })
    } catch (error) {
      const status = error instanceof BadRequest ? error.status : 500
      send(status, { ok: false, error: error instanceof Error ? error.message : String(error) })
    }
  })

  await new Promise((resolve, reject) => {
    const onError = (/** @type {Error} */ error) =>
      reject(new Error(`control endpoint: cannot listen on 127.0.0.1:${port}: ${error.message}`, { cause: error }))
    http.once('error', onError)
    http.listen(port, '127.0.0.1', () => {
      http.off('error', onError)
      resolve(undefined)
    })
  })
  const address = http.address()
  const actual = address && typeof address === 'object' ? address.port : port

  /** @type {Promise<void> | undefined} */
  let closing
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    close() {
      schedule('start')
      schedule('heal')
      closing ??= new Promise((resolve) => {
        http.close(() => resolve(undefined))
        // fetch() keeps connections alive; without this close() would wait for them to time out.
        http.closeAllConnections()
      })
      return closing
    },
  }
}
