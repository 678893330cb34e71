// @ts-check

/** @param {readonly number[]} values */
export function median(values) {
  return quantile(values, 0.5)
}

/**
 * Linear-interpolated quantile (q in [0, 1]) of unsorted values; NaN when empty.
 * @param {readonly number[]} values
 * @param {number} q
 */
export function quantile(values, q) {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const at = (sorted.length - 1) * q
  const low = Math.floor(at)
  const high = Math.ceil(at)
  return /** @type {number} */ (sorted[low]) + (/** @type {number} */ (sorted[high]) - /** @type {number} */ (sorted[low])) * (at - low)
}

/**
 * The most timestamps inside any half-open window [t, t + width): a sliding window, so a
 * burst that straddles a fixed bucket boundary is not split in two.
 * @param {readonly number[]} times
 * @param {number} width
 * @returns {{ count: number, start: number }}
 */
export function busiestWindow(times, width) {
  const sorted = [...times].sort((a, b) => a - b)
  let best = { count: 0, start: Number.NaN }
  let first = 0
  for (let last = 0; last < sorted.length; last++) {
    const end = /** @type {number} */ (sorted[last])
    while (end - /** @type {number} */ (sorted[first]) >= width) first++
    if (last - first + 1 > best.count) best = { count: last - first + 1, start: /** @type {number} */ (sorted[first]) }
  }
  return best
}

/**
 * A small seeded PRNG (mulberry32) so every run draws the same jitter.
 * @param {number} seed
 * @returns {() => number} uniform in [0, 1)
 */
export function seededRandom(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** @param {number} value @param {number} [digits] */
export const fixed = (value, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : String(value))
