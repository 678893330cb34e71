// @ts-check
// Per-message main-thread script time in Chromium, steadysocket vs the native WebSocket
// (DESIGN 10: at most 1.10×), with reconnecting-websocket and partysocket alongside.
// The clients take turns in small blocks inside each round and each ratio pairs blocks of
// the same turn, so drift of this noisy machine hits every client alike; medians are reported.
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { chromium } from 'playwright-core'
import { WebSocketServer } from 'ws'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../e2e/chromium.js'
import { peersBrowserBundle, root, steadysocketBuild } from './lib/artifacts.mjs'
import { serveFiles } from './lib/serve-files.mjs'
import { fixed, median } from './lib/stats.mjs'

export const BUDGET = 1.1
// gc() between rounds, so garbage of one round is not collected during the next.
const ARGS = [...CHROMIUM_ARGS, '--js-flags=--expose-gc']

/**
 * Serves the page, the built steadysocket and the peers bundle, and echoes every frame on
 * /echo; 127.0.0.1 only. Cross-origin isolation gives the page its finest timer (5 µs).
 * @param {Record<string, string>} files URL path → file
 */
async function startServer(files) {
  const served = await serveFiles(files, { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' })
  const wss = new WebSocketServer({ server: served.http, path: '/echo' })
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })))
  return {
    url: served.url,
    async close() {
      for (const client of wss.clients) client.terminate()
      await new Promise((resolve) => wss.close(() => resolve(undefined)))
      await served.close()
    },
  }
}

/**
 * @typedef {{ send: number[], handler: number[], checksum: number }} Totals
 * @typedef {{ send: number[], handler: number[], both: number[] }} Sample
 * @param {{ steadysocketFile: string, messages?: number, rounds?: number, block?: number, log?: (line: string) => void }} options
 */
export async function runThroughput({ steadysocketFile, messages = 10_000, rounds = 9, block = 100, log = () => {} }) {
  const server = await startServer({
    '/': join(root, 'bench', 'page', 'index.html'),
    '/bench.js': join(root, 'bench', 'page', 'bench.js'),
    '/steadysocket.js': steadysocketFile,
    '/peers.js': await peersBrowserBundle(),
  })
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS })
  try {
    const page = await browser.newPage()
    /** @type {string[]} */
    const pageErrors = []
    page.on('pageerror', (error) => pageErrors.push(error.message))
    await page.goto(server.url)
    await page.waitForFunction(() => 'bench' in window)
    const { kinds, isolated } = await page.evaluate(() => {
      const bench = /** @type {any} */ (window).bench
      return { kinds: /** @type {string[]} */ (bench.kinds), isolated: /** @type {boolean} */ (bench.crossOriginIsolated) }
    })
    await page.evaluate(([k, n]) => /** @type {any} */ (window).bench.setup(k, n), /** @type {const} */ ([kinds, messages]))
    const expectedChecksum = (messages * (messages - 1)) / 2
    /** @type {Record<string, Sample[]>} */
    const samples = Object.fromEntries(kinds.map((kind) => [kind, []]))
    // Round 0 warms up the JIT and the connections and is not counted.
    for (let round = 0; round <= rounds; round++) {
      await page.evaluate(() => /** @type {any} */ (globalThis).gc())
      const totals = /** @type {Record<string, Totals>} */ (await page.evaluate((size) => /** @type {any} */ (window).bench.round(size), block))
      for (const kind of kinds) {
        const total = /** @type {Totals} */ (totals[kind])
        if (total.checksum !== expectedChecksum) throw new Error(`${kind}: echoes lost or altered (checksum ${total.checksum})`)
        if (round > 0) samples[kind]?.push({ send: total.send, handler: total.handler, both: total.send.map((ms, i) => ms + /** @type {number} */ (total.handler[i])) })
      }
      if (round === 0) continue
      const last = (/** @type {string} */ kind) => /** @type {Sample} */ (samples[kind]?.at(-1))
      log(`round ${round}/${rounds}: ` + kinds.map((kind) => `${kind} ${fixed((median(last(kind).both) * 1000) / block, 2)} µs`).join(', '))
    }
    if (pageErrors.length > 0) throw new Error(`page errors: ${pageErrors.join('; ')}`)
    const native = /** @type {Sample[]} */ (samples.native)
    const results = kinds.map((kind) => {
      const list = /** @type {Sample[]} */ (samples[kind])
      // Per round: the median over turns of this client's block time over native's block in
      // the same turn (a few ms apart), so load that comes and goes cancels out pairwise.
      const ratios = (/** @type {(s: Sample) => number[]} */ get) =>
        list.map((sample, i) => {
          const base = get(/** @type {Sample} */ (native[i]))
          return median(get(sample).map((ms, turn) => ms / /** @type {number} */ (base[turn])))
        })
      const main = ratios((s) => s.both)
      const perMessage = (/** @type {(s: Sample) => number[]} */ get) => (median(list.map((s) => median(get(s)))) * 1000) / block
      return {
        kind,
        ratio: median(main),
        ratioRange: [Math.min(...main), Math.max(...main)],
        sendRatio: median(ratios((s) => s.send)),
        handlerRatio: median(ratios((s) => s.handler)),
        usPerMessage: perMessage((s) => s.both),
        sendUs: perMessage((s) => s.send),
        handlerUs: perMessage((s) => s.handler),
      }
    })
    const overhead = /** @type {{ native: number, steadysocket: number, added: number, ratio: number }} */ (
      await page.evaluate(([count, reps]) => /** @type {any} */ (window).bench.overhead(count, reps), [Math.min(messages, 2_000), 101])
    )
    return { chromium: browser.version(), crossOriginIsolated: isolated, messages, rounds, block, budget: BUDGET, results, overhead }
  } finally {
    await browser.close()
    await server.close()
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { file, how } = await steadysocketBuild(console.log)
  console.log(`steadysocket: ${how}`)
  const result = await runThroughput({
    steadysocketFile: file,
    messages: Number(process.env.BENCH_MESSAGES ?? 10_000),
    rounds: Number(process.env.BENCH_ROUNDS ?? 9),
    block: Number(process.env.BENCH_BLOCK ?? 100),
    log: console.log,
  })
  console.log(`Chromium ${result.chromium}, crossOriginIsolated ${result.crossOriginIsolated}`)
  for (const r of result.results)
    console.log(
      `${r.kind.padEnd(24)} ×${fixed(r.ratio, 3)} (rounds ${fixed(r.ratioRange[0] ?? NaN, 3)}–${fixed(r.ratioRange[1] ?? NaN, 3)})` +
        `  ${fixed(r.usPerMessage, 2)} µs/msg (send ${fixed(r.sendUs, 2)} ×${fixed(r.sendRatio, 3)}, handler ${fixed(r.handlerUs, 2)} ×${fixed(r.handlerRatio, 3)})`,
    )
  const { native, steadysocket, added, ratio } = result.overhead
  console.log(`without the network: hand-written JSON ${fixed(native, 0)} ns/msg, steadysocket ${fixed(steadysocket, 0)} ns/msg (${added >= 0 ? '+' : ''}${fixed(added, 0)} ns, ×${fixed(ratio, 3)})`)
}
