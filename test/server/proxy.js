import { EventEmitter } from 'node:events'
import { connect, createServer } from 'node:net'
import { checkPort, waitUntil, wsUrl } from './wait.js'

/**
 * @typedef {{ client: import('node:net').Socket, upstream: import('node:net').Socket, dead: boolean }} Pair
 * @typedef {'up' | 'down'} Direction
 */

/**
 * @param {string | { host?: string, port: number }} target
 * @returns {{ host: string, port: number }}
 */
function parseTarget(target) {
  if (typeof target === 'string') {
    let url
    try {
      url = new URL(target)
    } catch (error) {
      throw new TypeError(`startProxy({ target }): not a URL: ${target}`, { cause: error })
    }
    const secure = url.protocol === 'wss:' || url.protocol === 'https:'
    const port = url.port ? Number(url.port) : secure ? 443 : 80
    return { host: url.hostname.replace(/^\[|\]$/g, ''), port }
  }
  if (target && typeof target === 'object' && typeof target.port === 'number') {
    return { host: target.host ?? '127.0.0.1', port: checkPort(target.port, 'startProxy({ target: { port } })') }
  }
  throw new TypeError(
    `startProxy({ target }): expected a URL string or { host, port }, got ${JSON.stringify(target)}`,
  )
}

/** The most `delay()` accepts, in ms each way. */
const MAX_LATENCY = 60000

/**
 * A TCP proxy on 127.0.0.1 that forwards bytes both ways and can delay them (`delay`),
 * swallow them (`blackhole`), cut every connection, or refuse new ones.
 * @param {{ target: string | { host?: string, port: number }, port?: number }} options
 */
export async function startProxy(options) {
  const target = parseTarget(options?.target)
  const listenPort = checkPort(options.port ?? 0, 'startProxy({ port })')
  const events = new EventEmitter().setMaxListeners(0)
  const changed = () => events.emit('change')
  /** @type {Set<Pair>} */
  const pairs = new Set()
  const bytes = { up: 0, down: 0 }
  const swallowed = { up: 0, down: 0 }
  let blackholed = false
  let refusing = false
  let latency = 0
  let totalConnections = 0

  /** @param {Pair} pair */
  const destroyPair = (pair) => {
    pair.client.destroy()
    pair.upstream.destroy()
  }

  /**
   * @param {Pair} pair
   * @param {import('node:net').Socket} from
   * @param {import('node:net').Socket} to
   * @param {Direction} direction
   */
  const forward = (pair, from, to, direction) => {
    /** @type {Array<{ at: number, chunk: Buffer }>} chunks held back by `latency`, in order */
    const delayed = []
    /** @type {NodeJS.Timeout | undefined} */
    let timer
    /** @type {(() => void) | undefined} a close that waits for the delayed chunks to go first */
    let closeAfter
    /** @param {Buffer} chunk */
    const write = (chunk) => {
      bytes[direction] += chunk.length
      if (!to.write(chunk)) {
        from.pause()
        to.once('drain', () => from.resume())
      }
    }
    const flush = () => {
      timer = undefined
      const now = Date.now()
      while (delayed.length > 0 && /** @type {{ at: number }} */ (delayed[0]).at <= now) {
        write(/** @type {{ chunk: Buffer }} */ (delayed.shift()).chunk)
      }
      if (delayed.length > 0) timer = setTimeout(flush, /** @type {{ at: number }} */ (delayed[0]).at - now)
      else closeAfter?.()
      changed()
    }
    from.on('data', (chunk) => {
      if (blackholed) {
        swallowed[direction] += chunk.length
      } else if (latency > 0 || delayed.length > 0) {
        // Never earlier than the chunk before it: a latency lowered mid-stream keeps the order.
        const at = Math.max(Date.now() + latency, delayed.at(-1)?.at ?? 0)
        delayed.push({ at, chunk })
        timer ??= setTimeout(flush, at - Date.now())
      } else {
        write(chunk)
      }
      changed()
    })
    from.on('error', () => {})
    from.once('close', () => {
      const close = () => {
        closeAfter = undefined
        // A silent network does not carry FIN or RST either: keep the other side open.
        if (blackholed) pair.dead = true
        else if (to.connecting) to.destroy()
        else if (!to.destroyed) to.end(() => to.destroy())
        if (pair.client.destroyed && pair.upstream.destroyed) pairs.delete(pair)
        changed()
      }
      // The FIN travels behind the data, with the same delay.
      if (delayed.length > 0 && !to.destroyed) closeAfter = close
      else {
        clearTimeout(timer)
        delayed.length = 0
        close()
      }
    })
    to.once('close', () => {
      clearTimeout(timer)
      delayed.length = 0
    })
  }

  const server = createServer({ noDelay: true }, (client) => {
    if (refusing) {
      client.on('error', () => {})
      client.resetAndDestroy()
      return
    }
    const upstream = connect({ host: target.host, port: target.port, noDelay: true })
    const pair = { client, upstream, dead: false }
    pairs.add(pair)
    totalConnections++
    forward(pair, client, upstream, 'up')
    forward(pair, upstream, client, 'down')
    changed()
  })

  await new Promise((resolve, reject) => {
    const onError = (/** @type {Error} */ error) =>
      reject(new Error(`fault proxy: cannot listen on 127.0.0.1:${listenPort}: ${error.message}`, { cause: error }))
    server.once('error', onError)
    server.listen(listenPort, '127.0.0.1', () => {
      server.off('error', onError)
      resolve(undefined)
    })
  })
  const address = server.address()
  const port = address && typeof address === 'object' ? address.port : listenPort

  const cut = () => {
    for (const pair of pairs) destroyPair(pair)
  }

  /** @type {Promise<void> | undefined} */
  let closing

  /** @type {import('./index.js').FaultProxy} */
  const proxy = {
    url: wsUrl('127.0.0.1', port),
    port,
    target,
    get connections() {
      return pairs.size
    },
    get totalConnections() {
      return totalConnections
    },
    get halfOpen() {
      let n = 0
      for (const pair of pairs) if (pair.dead) n++
      return n
    },
    bytes,
    swallowed,
    get blackholed() {
      return blackholed
    },
    get latency() {
      return latency
    },
    /** @param {number} ms */
    delay(ms) {
      if (!Number.isInteger(ms) || ms < 0 || ms > MAX_LATENCY) {
        throw new RangeError(`delay: ${String(ms)} ms; expected an integer from 0 to ${MAX_LATENCY} (ms added each way)`)
      }
      latency = ms
    },
    /** @param {boolean} on */
    blackhole(on) {
      blackholed = on
      if (on) return
      // A side that closed during the blackhole: now the network "heals", tear down the survivor.
      for (const pair of pairs) if (pair.dead) destroyPair(pair)
    },
    cut,
    /** @param {boolean} on */
    refuse(on) {
      refusing = on
    },
    /**
     * @param {(p: import('./index.js').FaultProxy) => boolean} predicate
     * @param {number} [timeoutMs]
     */
    waitFor(predicate, timeoutMs = 5000) {
      return waitUntil(
        events,
        () => predicate(proxy),
        timeoutMs,
        () =>
          `waiting for ${predicate}; now connections=${pairs.size}, bytes=${JSON.stringify(bytes)}, swallowed=${JSON.stringify(swallowed)}`,
      )
    },
    close() {
      closing ??= new Promise((resolve) => {
        server.close(() => resolve(undefined))
        cut()
      })
      return closing
    },
  }
  return proxy
}
