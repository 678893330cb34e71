import type { RetryOptions } from './types'

/** The `retry` defaults, shared by `backoffDelay` and the options. Times in ms. */
export const retryDefaults: Required<RetryOptions> = {
  initialDelay: 500,
  maxDelay: 30_000,
  factor: 2,
  jitter: 'full',
  maxAttempts: Infinity,
  maxElapsed: Infinity,
  stableAfter: 5_000,
  random: Math.random,
}

/**
 * Delay in ms before retry number `attempt` (1-based): the cap is
 * `min(maxDelay, initialDelay · factor^(attempt-1))`; `'full'` jitter draws from
 * [0, cap], `'equal'` from [cap/2, cap], `'none'` uses the cap. Pure.
 * @example backoffDelay(3, { initialDelay: 500, jitter: 'none' }) // 2000
 */
export function backoffDelay(attempt: number, options: RetryOptions = {}): number {
  const { initialDelay, maxDelay, factor, jitter, random } = { ...retryDefaults, ...options }
  // `|| 0`: an initialDelay of 0 times factor^n overflowing to Infinity would be NaN.
  const cap = Math.min(maxDelay, initialDelay * factor ** Math.max(0, attempt - 1)) || 0
  if (jitter === 'none') return cap
  return jitter === 'equal' ? cap / 2 + (random() * cap) / 2 : random() * cap
}

/**
 * The delay before retry number `attempt` (1-based, counted since the last stable open)
 * that the socket waits; `hint` is the server's `retryAfter` in ms, if it sent one. Pure.
 */
export function retryDelay(attempt: number, options: Required<RetryOptions>, hint?: number): number {
  return Math.min(hint ?? backoffDelay(attempt, options), options.maxDelay)
}
