// @ts-check
// The storm's verdicts against DESIGN 10 and its Markdown tables.
import { ALL_BACK_BUDGET, BUDGET, SINGLE_BUDGET, pct, s } from '../storm.mjs'
import { fixed } from './stats.mjs'

/** @typedef {Awaited<ReturnType<typeof import('../storm.mjs').runStorm>>} Storm */

/** @param {Storm} storm */
export function stormVerdicts(storm) {
  const mine = storm.rows.filter((r) => r.library === 'steadysocket' && !r.name.includes('retryAfter'))
  const rws = new Map(storm.rows.filter((r) => r.library === 'reconnecting-websocket').map((r) => [r.downFor, r]))
  const n = storm.clients.toLocaleString('en-US')
  /** @type {{ budget: string, measured: string, pass: boolean }[]} */
  const verdicts = []
  for (const r of mine) {
    verdicts.push({ budget: `${n} clients, down ${r.downFor / 1000} s: busiest 100 ms after the server is back ≤ 3 %`, measured: pct(r.busiestAfterBack.share), pass: r.busiestAfterBack.share <= BUDGET })
    verdicts.push({ budget: `${n} clients, down ${r.downFor / 1000} s: all open again ≤ 10 s after the server is back`, measured: s(r.backAll), pass: r.backAll <= ALL_BACK_BUDGET })
    const peer = rws.get(r.downFor)
    if (r.downFor >= 10_000 && peer)
      verdicts.push({
        budget: `${n} clients, down ${r.downFor / 1000} s: attempts per client while down ≤ reconnecting-websocket's (${fixed(peer.attemptsDuring, 2)})`,
        measured: fixed(r.attemptsDuring, 2),
        pass: r.attemptsDuring <= peer.attemptsDuring,
      })
  }
  const hint = storm.rows.find((r) => r.name.includes('"retryAfter":5000'))
  if (hint) verdicts.push({ budget: `${n} clients, {"retryAfter":5000} to all: busiest 100 ms ≤ 3 %`, measured: pct(hint.busiestAfterBack.share), pass: hint.busiestAfterBack.share <= BUDGET })
  const single = storm.single.find((x) => x.library === 'steadysocket')
  if (single)
    verdicts.push({ budget: `one client, one drop, server up: median time to open again ≤ 2 s (${single.trials.toLocaleString('en-US')} trials)`, measured: `${fixed(single.median / 1000, 2)} s`, pass: single.median <= SINGLE_BUDGET })
  return verdicts
}

/**
 * @param {Storm} storm
 * @param {{ title?: string }} [options]
 */
export function stormMarkdown(storm, { title } = {}) {
  const n = storm.clients.toLocaleString('en-US')
  const rows = storm.rows.filter((r) => !r.name.includes('retryAfter'))
  const hints = storm.rows.filter((r) => r.name.includes('retryAfter'))
  const md = [
    `### ${title ?? `${n} clients reconnecting after an outage`}`,
    '',
    'After the server is back: the busiest 100 ms of attempts (as a share of the clients) and the time until half and until all of them are open again; while it is down: failed attempts per client; and the busiest 100 ms over every attempt from the drop on.',
    '',
    '| client | down | busiest 100 ms after back | half open after | all open after | attempts per client while down | busiest 100 ms, all attempts |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.library} | ${r.downFor / 1000} s | ${pct(r.busiestAfterBack.share)} | ${s(r.backHalf)} | ${s(r.backAll)} | ${fixed(r.attemptsDuring, 2)} | ${pct(r.busiestAll.share)} |`,
    ),
    '',
  ]
  if (hints.length)
    md.push(
      '| steadysocket, server closes with 1001 and | down | busiest 100 ms after back | half open after | all open after |',
      '| --- | --- | --- | --- | --- |',
      ...hints.map((r) => `| ${r.name.replace(/^1001 \+ /, '').replace(/, down 5 s$/, '')} | ${r.downFor / 1000} s | ${pct(r.busiestAfterBack.share)} | ${s(r.backHalf)} | ${s(r.backAll)} |`),
      '',
    )
  if (storm.single.length)
    md.push(
      `One client, one drop, server up (${storm.single[0]?.trials.toLocaleString('en-US')} trials, each its own random draw): time from the drop to open again.`,
      '',
      '| client | median | 90th percentile | slowest |',
      '| --- | --- | --- | --- |',
      ...storm.single.map((x) => `| ${x.library} | ${fixed(x.median / 1000, 2)} s | ${fixed(x.p90 / 1000, 2)} s | ${fixed(x.max / 1000, 2)} s |`),
      '',
    )
  if (storm.frontier.length)
    md.push(
      'The frontier behind the defaults (steadysocket, every other option default):',
      '',
      '| retry | down | busiest 100 ms after back | half open after | all open after | attempts per client while down |',
      '| --- | --- | --- | --- | --- | --- |',
      ...storm.frontier.map(
        (r) => `| \`${JSON.stringify(r.retry)}\` | ${r.downFor / 1000} s | ${pct(r.busiestAfterBack.share)} | ${s(r.backHalf)} | ${s(r.backAll)} | ${fixed(r.attemptsDuring, 2)} |`,
      ),
      '',
    )
  return md
}
