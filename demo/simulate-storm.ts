import * as steadysocket from 'steadysocket'
import type { RetryOptions } from 'steadysocket'
import { busiestWindow, seededRandom } from '../bench/lib/stats.mjs'

/** Width of the window the budget is stated in (DESIGN section 10). */
export const WINDOW = 100
/** A refused connection fails about this fast, as in the storm benchmark's fake network. */
const FAIL_AFTER = 1
const MAX_ATTEMPTS = 10_000

export interface StormResult {
  clients: number
  downFor: number
  /** Every attempt, ms after the drop. */
  attempts: Float64Array
  /** When the last client was open again, ms after the drop. */
  allBackAt: number
  /** The busiest 100 ms of attempts after the server is back, as a share of the clients. */
  busiest: { share: number; at: number }
  attemptsPerClient: number
  /** Wall-clock ms the simulation took in this page. */
  took: number
}

type DelayFn = (attempt: number, options: RetryOptions & Required<Pick<RetryOptions, 'random'>>) => number

// The policy as the library exports it at run time: the delay the socket itself uses
// (`retryDelay` with the full defaults) where the build exports them, else the documented
// `backoffDelay`, which fills in the defaults itself. The panel follows the library's policy.
const exported = steadysocket as unknown as Record<string, unknown>
const defaults = (exported.retryDefaults ?? undefined) as Required<RetryOptions> | undefined
const retryDelay = exported.retryDelay as ((attempt: number, options: Required<RetryOptions>) => number) | undefined
const delayOf: DelayFn =
  defaults && typeof retryDelay === 'function'
    ? (attempt, options) => retryDelay(attempt, { ...defaults, ...options })
    : (attempt, options) => steadysocket.backoffDelay(attempt, options)

/** Which exported function the panel draws with, for its caption. */
export const POLICY_SOURCE = defaults && typeof retryDelay === 'function' ? 'retryDelay + retryDefaults' : 'backoffDelay'

/**
 * `clients` sockets all lose their connection at 0; the server refuses connections until
 * `downFor` ms, then accepts. Each client retries with the library's delays (the first
 * retry is attempt 1) until an attempt lands after the server is back.
 */
export function simulateStorm(clients: number, downFor: number, retry: RetryOptions = {}, seed = 0x5eed): StormResult {
  const started = performance.now()
  const random = seededRandom(seed ^ downFor)
  const options = { ...retry, random }
  const attempts: number[] = []
  let allBackAt = 0
  for (let client = 0; client < clients; client++) {
    let at = 0
    // Bounded: a policy with no delay at all still ends (at FAIL_AFTER ms per attempt).
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      at += delayOf(attempt, options)
      attempts.push(at)
      if (at >= downFor) break
      at += FAIL_AFTER
    }
    allBackAt = Math.max(allBackAt, at)
  }
  const after = busiestWindow(
    attempts.filter((t) => t >= downFor),
    WINDOW,
  )
  return {
    clients,
    downFor,
    attempts: Float64Array.from(attempts),
    allBackAt,
    busiest: { share: after.count / clients, at: after.start },
    attemptsPerClient: attempts.length / clients,
    took: performance.now() - started,
  }
}

/** Counts of attempts per bin of `width` ms from 0 to `end`. */
export function histogram(attempts: Float64Array, width: number, end: number): number[] {
  const bins: number[] = Array.from({ length: Math.max(1, Math.ceil(end / width)) }, () => 0)
  for (const at of attempts) {
    const bin = Math.min(bins.length - 1, Math.floor(at / width))
    bins[bin] = (bins[bin] ?? 0) + 1
  }
  return bins
}
