/**
 * An always-online steadysocket `environment` that counts its listeners and the timers
 * set through it, for leak checks (test/integration/leaks.test.ts, bench/cycles.mjs).
 */
export function countingEnvironment() {
  // One entry per listen() call, so the same function registered twice counts twice.
  /** @type {Set<{ listener: unknown }>} */
  const listeners = new Set()
  /** @type {Set<ReturnType<typeof setTimeout>>} */
  const timers = new Set()
  return {
    listeners,
    timers,
    environment: {
      online: () => true,
      /** @param {(signal: string) => void} listener */
      listen(listener) {
        const entry = { listener }
        listeners.add(entry)
        return () => void listeners.delete(entry)
      },
      /** @param {() => void} fn @param {number} ms */
      setTimeout(fn, ms) {
        const id = setTimeout(() => {
          timers.delete(id)
          fn()
        }, ms)
        timers.add(id)
        return id
      },
      /** @param {ReturnType<typeof setTimeout>} id */
      clearTimeout(id) {
        timers.delete(id)
        clearTimeout(id)
      },
    },
  }
}
