/** Time sources; their functions are called detached, so the natives need no binding. */
export interface Clock {
  now(): number
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(id: unknown): void
}

// setTimeout fires at once for delays over 2^31−1 ms.
const LONGEST = 2 ** 31 - 1

/**
 * Wraps a clock's timers so that `Infinity` never fires and a delay over 2^31−1 ms waits
 * as long as it says (in steps measured by the clock, not by counting callbacks).
 */
export function safeClock({ now, setTimeout, clearTimeout }: Clock): Clock {
  return {
    now,
    setTimeout(fn, ms) {
      const handle: { id?: unknown } = {}
      const due = now() + ms
      const wait = (left: number) => {
        if (left === Infinity) return
        handle.id = left > LONGEST ? setTimeout(() => wait(due - now()), LONGEST) : setTimeout(fn, left)
      }
      wait(ms)
      return handle
    },
    clearTimeout: (handle) => clearTimeout((handle as { id?: unknown } | undefined)?.id),
  }
}
