// @ts-check
import { quantile } from './stats.mjs'

/**
 * How long clients took to be open again after the faults that hit them. A fault hit a
 * client when the client lost an open connection (a `close` event) between the fault's start
 * and the next fault's; its recovery runs from the fault's end (the path or the server back)
 * to the client's first `open` after the last such close, later faults or not (0 when it was
 * open again before the fault ended).
 * @param {readonly { start: number, end: number }[]} faults in order, `Date.now()` ms
 * @param {readonly { opens: readonly number[], closes: readonly number[] }[]} clients `Date.now()` of each `open` and `close` event
 * @returns {{ times: number[], fault: number[], unrecovered: number }} ms per (client, fault) pair and that fault's index; pairs with no `open` after
 */
export function recoveryTimes(faults, clients) {
  /** @type {number[]} */
  const times = []
  /** @type {number[]} */
  const fault = []
  let unrecovered = 0
  for (const { opens, closes } of clients) {
    /** @type {Map<number, number>} fault index → the client's last close in that fault's window */
    const hit = new Map()
    let f = -1
    for (const closed of closes) {
      while (f + 1 < faults.length && /** @type {{ start: number }} */ (faults[f + 1]).start <= closed) f++
      if (f >= 0) hit.set(f, closed)
    }
    let o = 0
    for (const [i, closed] of hit) {
      while (o < opens.length && /** @type {number} */ (opens[o]) < closed) o++
      if (o === opens.length) unrecovered++
      else {
        times.push(Math.max(0, /** @type {number} */ (opens[o]) - /** @type {{ end: number }} */ (faults[i]).end))
        fault.push(i)
      }
    }
  }
  return { times, fault, unrecovered }
}

/**
 * @param {readonly number[]} times
 * @returns {{ pairs: number, p50: number, p90: number, p99: number, max: number }} ms
 */
export function percentiles(times) {
  return { pairs: times.length, p50: quantile(times, 0.5), p90: quantile(times, 0.9), p99: quantile(times, 0.99), max: times.length ? times.reduce((a, b) => Math.max(a, b)) : Number.NaN }
}
