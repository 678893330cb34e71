/**
 * Resolves once `check()` is true, re-checking on every `change` event of `emitter`.
 * @param {import('node:events').EventEmitter} emitter
 * @param {() => boolean} check
 * @param {number} timeoutMs
 * @param {() => string} describe what was awaited and the current state, for the timeout error
 * @returns {Promise<void>}
 */
export function waitUntil(emitter, check, timeoutMs, describe) {
  return new Promise((resolve, reject) => {
    /** @param {Error} [error] */
    const finish = (error) => {
      clearTimeout(timer)
      emitter.off('change', test)
      if (error) reject(error)
      else resolve(undefined)
    }
    const test = () => {
      try {
        if (check()) finish()
      } catch (error) {
        finish(/** @type {Error} */ (error))
      }
    }
    const timer = setTimeout(
      () => finish(new Error(`waitFor timed out after ${timeoutMs} ms: ${describe()}`)),
      timeoutMs,
    )
    emitter.on('change', test)
    test()
  })
}

/**
 * @param {unknown} port
 * @param {string} name
 * @returns {number}
 */
export function checkPort(port, name) {
  if (!Number.isInteger(port) || /** @type {number} */ (port) < 0 || /** @type {number} */ (port) > 65535) {
    throw new RangeError(`${name}: expected an integer port from 0 to 65535, got ${String(port)}`)
  }
  return /** @type {number} */ (port)
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost'])

/**
 * @param {unknown} host
 * @param {string} name
 * @returns {string}
 */
export function checkLoopback(host, name) {
  if (typeof host !== 'string' || !LOOPBACK.has(host)) {
    throw new TypeError(`${name}: test servers only listen on loopback; got ${String(host)}, use '127.0.0.1'`)
  }
  return host
}

/**
 * @param {string} host
 * @param {number} port
 */
export function wsUrl(host, port) {
  return `ws://${host.includes(':') ? `[${host}]` : host}:${port}`
}
