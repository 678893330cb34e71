import { describe, expect, test } from 'vitest'
import { backoffDelay, CloseCode, isFatalClose } from '../../src/index'
import { retryDefaults, retryDelay } from '../../src/backoff'
import { retryAfter } from '../../src/close-codes'
import { normalize } from '../../src/options'
import type { RetryOptions } from '../../src/types'
import { seededRandom } from '../../bench/lib/stats.mjs'

// A seeded source (mulberry32) so the distribution tests repeat exactly.
const seeded = (seed: number): (() => number) => seededRandom(seed)

/** Counts of `values` in `buckets` equal bins over [from, to). */
function bins(values: number[], from: number, to: number, buckets: number) {
  const counts = Array.from({ length: buckets }, () => 0)
  for (const v of values) counts[Math.min(buckets - 1, Math.floor(((v - from) / (to - from)) * buckets))]!++
  return counts
}

const draw = (n: number, delay: (random: () => number) => number, seed = 7) => {
  const random = seeded(seed)
  return Array.from({ length: n }, () => delay(random))
}

describe('backoffDelay', () => {
  test('defaults: a first retry spread over 4 s, a cap growing by 1.3 to 9.5 s, 20 % of later delays random', () => {
    expect(retryDefaults).toMatchObject({ initialDelay: 4000, maxDelay: 9500, factor: 1.3, jitter: 0.2, maxAttempts: Infinity, maxElapsed: Infinity, stableAfter: 5000 })
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, { random: () => 0.9999999 }))).toEqual([4000, 5200, 6760, 8788, 9500].map((cap) => expect.closeTo(cap, 2)))
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, { random: () => 0 }))).toEqual([0, 4160, 5408, 7030.4, 7600].map((ms) => expect.closeTo(ms, 6)))
  })

  test('the default first retry is uniform over [0, initialDelay]: median 2 s, no 100 ms holding more than its share', () => {
    const delays = draw(100_000, (random) => backoffDelay(1, { random }))
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...delays)).toBeLessThan(4000)
    const sorted = [...delays].sort((a, b) => a - b)
    expect(sorted[50_000]).toBeGreaterThan(1950)
    expect(sorted[50_000]).toBeLessThan(2050)
    // 40 bins of 100 ms, 2,500 expected in each: sampling noise stays within ±10 %.
    const counts = bins(delays, 0, 4000, 40)
    expect(Math.max(...counts)).toBeLessThan(2750)
    expect(Math.min(...counts)).toBeGreaterThan(2250)
  })

  test('a later default retry is uniform over [0.8 · cap, cap]', () => {
    const delays = draw(50_000, (random) => backoffDelay(6, { random }))
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0.8 * 9500)
    expect(Math.max(...delays)).toBeLessThanOrEqual(9500)
    const counts = bins(delays, 0.8 * 9500, 9500, 10)
    expect(Math.max(...counts) / Math.min(...counts)).toBeLessThan(1.1)
  })

  test("grows by factor from initialDelay and stops at maxDelay with 'none' jitter, first retry included", () => {
    const delays = [1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelay(n, { initialDelay: 500, factor: 2, jitter: 'none', maxDelay: 10_000 }))
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000])
  })

  test("'none' and a jitter of 0 never call random", () => {
    let calls = 0
    const random = () => (calls++, 0.5)
    for (const jitter of ['none', 0] as const) for (const n of [1, 2, 9]) backoffDelay(n, { jitter, random })
    expect(calls).toBe(0)
  })

  test("'full' jitter draws from [0, cap]", () => {
    expect([0, 0.5, 0.999].map((r) => backoffDelay(3, { initialDelay: 500, factor: 2, jitter: 'full', random: () => r }))).toEqual([0, 1000, 1998])
  })

  test("'equal' jitter draws later retries from [cap/2, cap]", () => {
    expect([0, 0.5, 1].map((r) => backoffDelay(3, { initialDelay: 500, factor: 2, jitter: 'equal', random: () => r }))).toEqual([1000, 1500, 2000])
  })

  test('a number is the random share of later retries; the first retry draws its whole window with any jitter but none', () => {
    const at = (jitter: 'full' | 'equal' | number, r: number) => [1, 2].map((n) => backoffDelay(n, { initialDelay: 1000, factor: 2, jitter, random: () => r }))
    expect([at(0.25, 0), at(0.25, 1), at('equal', 0), at('full', 0)]).toEqual([
      [0, 1500],
      [1000, 2000],
      [0, 1000],
      [0, 0],
    ])
  })

  test('a jitter above 1 counts as 1 and a random source out of [0, 1) cannot leave [0, maxDelay]', () => {
    expect([backoffDelay(2, { jitter: 5, random: () => 0, initialDelay: 1000, factor: 2 }), backoffDelay(2, { random: () => 7, maxDelay: 5000 }), backoffDelay(2, { jitter: 'full', random: () => -3 })]).toEqual([
      0, 5000, 0,
    ])
    expect(backoffDelay(2, { random: () => Number.NaN })).toBe(0)
  })

  test('uses initialDelay and factor', () => {
    expect([1, 2, 3].map((n) => backoffDelay(n, { jitter: 'none', initialDelay: 100, factor: 3 }))).toEqual([100, 300, 900])
  })

  test('stays a number for huge attempt counts, even with initialDelay 0', () => {
    expect([backoffDelay(1025, { initialDelay: 0, jitter: 'none' }), backoffDelay(5000, { jitter: 'none' }), backoffDelay(5000, { jitter: 'full', random: () => 0.5 })]).toEqual([0, 9500, 4750])
  })

  test('is pure: the same inputs give the same delay', () => {
    const options = { random: () => 0.3 }
    expect(backoffDelay(4, options)).toBe(backoffDelay(4, options))
  })
})

describe('retryDelay', () => {
  const options = { ...retryDefaults, random: () => 0.5 }

  test('without a hint it is backoffDelay', () => {
    expect([1, 2, 7].map((n) => retryDelay(n, options))).toEqual([1, 2, 7].map((n) => backoffDelay(n, options)))
  })

  test('a retryAfter hint is the earliest time, and the attempt is spread over the initialDelay after it', () => {
    expect([0, 0.5, 0.9999].map((r) => retryDelay(3, { ...options, random: () => r }, 5000))).toEqual([5000, 7000, expect.closeTo(8999.6, 1)])
  })

  test('the same hint sent to 10,000 clients spreads them over 4 s after it: no 100 ms holds 3 % of them', () => {
    const delays = draw(10_000, (random) => retryDelay(1, { ...retryDefaults, random }, 5000), 11)
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(5000)
    expect(Math.max(...delays)).toBeLessThan(9000)
    expect(Math.max(...bins(delays, 5000, 9000, 40))).toBeLessThan(300)
  })

  test('a hint is capped by maxDelay before the spread, and taken exactly with jitter none', () => {
    expect([retryDelay(1, options, 60_000), retryDelay(1, { ...options, jitter: 'none' }, 2000), retryDelay(1, { ...options, jitter: 'none', maxDelay: 8000 }, 60_000)]).toEqual([
      9500 + 2000,
      2000,
      8000,
    ])
  })

  test('a hint the server spreads itself stays spread, later by at most initialDelay', () => {
    const random = seeded(3)
    const hints = Array.from({ length: 1000 }, () => 5000 + random() * 4000)
    const delays = hints.map((hint) => retryDelay(1, { ...retryDefaults, random }, hint))
    expect(delays.every((delay, i) => delay >= hints[i]! && delay < hints[i]! + 4000)).toBe(true)
  })
})

describe('retry options', () => {
  const retryOf = (retry: boolean | number | RetryOptions) =>
    normalize('ws://example.test/', { WebSocket: class {} as unknown as typeof WebSocket, environment: { online: () => true, listen: () => () => {} }, retry }).retry

  test('every retry option is accepted, merged over the defaults, and reaches retryDelay as given', () => {
    const random = () => 0.5
    const given = { initialDelay: 1000, maxDelay: 20_000, factor: 2, jitter: 0.5, maxAttempts: 7, maxElapsed: 60_000, stableAfter: 3000, random }
    expect(retryOf(given)).toEqual(given)
    expect(retryOf({ factor: 3 })).toEqual({ ...retryDefaults, factor: 3 })
    expect(retryOf(4)).toEqual({ ...retryDefaults, maxAttempts: 4 })
    expect(retryOf(false).maxAttempts).toBe(0)
    expect(retryDelay(2, retryOf(given))).toBe(1500)
  })

  test("jitter takes 'full', 'equal', 'none' or a number from 0 to 1", () => {
    expect((['full', 'equal', 'none', 0, 0.2, 1] as const).map((jitter) => retryOf({ jitter }).jitter)).toEqual(['full', 'equal', 'none', 0, 0.2, 1])
  })

  test('a wrong jitter is an error naming the option and what it accepts', () => {
    expect(() => retryOf({ jitter: 'some' as 'full' })).toThrow(/option retry\.jitter got "some" — use "full", "equal" or "none", or a number from 0 to 1/)
    expect(() => retryOf({ jitter: -0.5 })).toThrow(RangeError)
    expect(() => retryOf({ initialDelay: '4s' as unknown as number })).toThrow(/option retry\.initialDelay got "4s"/)
  })
})

describe('isFatalClose', () => {
  test('treats protocol, data and policy errors and 4400–4499 as fatal', () => {
    const codes = [1000, 1001, 1002, 1003, 1005, 1006, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 4000, 4399, 4400, 4450, 4499, 4500]
    expect(codes.filter((code) => isFatalClose({ code }))).toEqual([1002, 1003, 1007, 1008, 1010, 4400, 4450, 4499])
  })

  test('exports the close codes it uses', () => {
    expect([CloseCode.GoingAway, CloseCode.PolicyViolation, CloseCode.HeartbeatTimeout]).toEqual([1001, 1008, 4000])
  })
})

describe('retryAfter', () => {
  test('reads a JSON reason and ignores anything else', () => {
    expect(['{"retryAfter":1500}', '{"retryAfter":-1}', '{"retryAfter":"5"}', '{broken', 'bye', ''].map(retryAfter)).toEqual([1500, undefined, undefined, undefined, undefined, undefined])
  })
})
