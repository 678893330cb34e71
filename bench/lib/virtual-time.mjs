// @ts-check

/**
 * @typedef {{ at: number, seq: number, fn: () => void, cancelled: boolean, ran: boolean }} Timer
 */

/**
 * A virtual clock with a timer queue: timers run in (time, creation) order and time jumps
 * straight to the next one, so minutes of backoff for thousands of clients take seconds.
 * @param {number} [start] epoch ms the clock starts at
 */
export function createVirtualTime(start = 1_700_000_000_000) {
  let current = start
  let seq = 0
  let live = 0
  /** @type {Timer[]} a binary min-heap */
  const heap = []
  const before = (/** @type {Timer} */ a, /** @type {Timer} */ b) => a.at < b.at || (a.at === b.at && a.seq < b.seq)

  /** @param {Timer} timer */
  function push(timer) {
    heap.push(timer)
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(timer, /** @type {Timer} */ (heap[parent]))) break
      heap[i] = /** @type {Timer} */ (heap[parent])
      i = parent
    }
    heap[i] = timer
  }

  function pop() {
    const top = heap[0]
    const last = /** @type {Timer} */ (heap.pop())
    if (heap.length > 0) {
      let i = 0
      for (;;) {
        let child = 2 * i + 1
        if (child >= heap.length) break
        const right = heap[child + 1]
        if (right && before(right, /** @type {Timer} */ (heap[child]))) child++
        if (!before(/** @type {Timer} */ (heap[child]), last)) break
        heap[i] = /** @type {Timer} */ (heap[child])
        i = child
      }
      heap[i] = last
    }
    return top
  }

  /** Drops cancelled timers sitting at the top, so the next due time is a live one. */
  function nextLive() {
    while (heap.length > 0 && /** @type {Timer} */ (heap[0]).cancelled) pop()
    return heap[0]
  }

  /** Runs every live timer due at the earliest pending time; false when none is left or it is past `until`. */
  function step(until = Infinity) {
    const first = nextLive()
    if (!first || first.at > until) return false
    current = Math.max(current, first.at)
    while (nextLive()?.at === first.at) {
      const timer = /** @type {Timer} */ (pop())
      timer.ran = true
      live--
      timer.fn()
    }
    return true
  }

  return {
    now: () => current,
    /** Timers set and not yet run or cleared. */
    get pending() {
      return live
    },
    /**
     * @param {() => void} fn
     * @param {number} [ms]
     */
    setTimeout(fn, ms = 0) {
      const delay = Number.isFinite(ms) && ms > 0 ? ms : 0
      const timer = { at: current + delay, seq: seq++, fn, cancelled: false, ran: false }
      push(timer)
      live++
      return timer
    },
    /** @param {unknown} timer */
    clearTimeout(timer) {
      const t = /** @type {Timer | undefined} */ (timer)
      if (!t || typeof t !== 'object' || !('ran' in t) || t.cancelled || t.ran) return
      live--
      t.cancelled = true
    },
    /**
     * Runs timers until `done()` or `until` (virtual epoch ms), synchronously.
     * @param {number} until
     * @param {() => boolean} [done]
     */
    runUntil(until, done = () => false) {
      while (!done() && step(until));
      if (!done() && current < until) current = until
    },
    /**
     * Same, but lets promise callbacks run after each time step (for code that chains
     * timers through promises). `setImmediate` is the real one: it runs after the
     * microtask queue is empty.
     * @param {number} until
     * @param {() => boolean} [done]
     */
    async runUntilAsync(until, done = () => false) {
      const settle = () => new Promise((resolve) => setImmediate(resolve))
      await settle()
      while (!done() && step(until)) await settle()
      if (!done() && current < until) current = until
    },
  }
}
