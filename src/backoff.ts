import type { RetryOptions } from './types'

/**
 * The `retry` defaults, shared by `backoffDelay` and the options. Times in ms. The delays
 * are chosen from the storm benchmark (bench/README.md): a first retry spread over 4 s
 * keeps the busiest 100 ms of a fleet dropped at once near 2.5 % with a median of 2 s, and
 * a cap under 10 s brings every client back within 10 s of the server.
 */
export const retryDefaults: Required<RetryOptions> = {
  initialDelay: 4_000,
  maxDelay: 9_500,
  factor: 1.3,
  jitter: 0.2,
  maxAttempts: Infinity,
  maxElapsed: Infinity,
  stableAfter: 5_000,
  random: Math.random,
}

/** The random share of a delay for each jitter name; a number is its own share. */
const shares: Record<string, number> = { full: 1, equal: 0.5, none: 0 }
const shareOf = (jitter: RetryOptions['jitter']) => shares[jitter as string] ?? Math.min(1, +jitter!)

const within = (delay: number, maxDelay: number) => Math.min(maxDelay, Math.max(0, delay)) || 0

/**
 * Delay in ms before retry number `attempt` (1-based): the cap is
 * `min(maxDelay, initialDelay · factor^(attempt-1))`; the first retry is uniform in
 * [0, cap] (its random phase spreads clients dropped at once), later ones in
 * [cap · (1 - share), cap] with a share of 1 for `'full'`, 0.5 for `'equal'`, 0 for `'none'`
 * (no randomness at all, first retry included) or the number given. Pure.
 * @example backoffDelay(3, { initialDelay: 500, factor: 2, jitter: 'none' }) // 2000
 */
export function backoffDelay(attempt: number, options: RetryOptions = {}): number {
  const { initialDelay, maxDelay, factor, jitter, random } = { ...retryDefaults, ...options }
  const share = shareOf(jitter)
  const spread = share && (attempt > 1 ? share : 1)
  // `|| 0`: an initialDelay of 0 times factor^n overflowing to Infinity would be NaN.
  const cap = Math.min(maxDelay, initialDelay * factor ** Math.max(0, attempt - 1)) || 0
  return within(spread ? cap * (1 - spread + spread * random()) : cap, maxDelay)
}

/**
 * The delay before retry number `attempt` (1-based, counted since the last stable open)
 * that the socket waits; `hint` is the server's `retryAfter` in ms, if it sent one: the
 * earliest time (capped by `maxDelay`), with the attempt spread uniformly over the
 * `initialDelay` ms after it unless `jitter` is `'none'`. Pure.
 */
export function retryDelay(attempt: number, options: Required<RetryOptions>, hint?: number): number {
  const { initialDelay, maxDelay, jitter, random } = options
  if (hint === undefined) return backoffDelay(attempt, options)
  // Spread like a first retry: a server that sends the same hint to every client must not get them all back at once.
  return Math.min(hint, maxDelay) + (shareOf(jitter) && within(random() * initialDelay, initialDelay))
}
