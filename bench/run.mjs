// @ts-check
// `npm run bench`: the runtime budgets of DESIGN 10, measured side by side in one run.
//   node bench/run.mjs [--only throughput,storm,live,cycles] [--quick] [--full] [--strict]
// --quick: fewer rounds, messages and clients (a smoke run; its figures are not the ones
// to quote). --full: also the storm with 100,000 clients. --strict: exit 1 when a budget
// is missed. Results: bench/.out/results.json
// and bench/.out/results.md.
import { CHROMIUM_PATH } from '../e2e/chromium.js'
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { pathToFileURL } from 'node:url'
import { outDir, packageVersion, steadysocketBuild } from './lib/artifacts.mjs'
import { runCycles } from './cycles.mjs'
import { fixed } from './lib/stats.mjs'
import { runLiveStorm, liveLines } from './live-storm.mjs'
import { stormMarkdown, stormVerdicts } from './lib/storm-report.mjs'
import { runStorm } from './storm.mjs'
import { runThroughput } from './throughput.mjs'

const { values } = parseArgs({
  options: {
    only: { type: 'string', default: 'cycles,storm,live,throughput' },
    quick: { type: 'boolean', default: false },
    full: { type: 'boolean', default: false },
    strict: { type: 'boolean', default: false },
  },
})
const only = new Set((values.only ?? '').split(',').map((name) => name.trim()))
const quick = values.quick ?? false
const full = values.full ?? false
const log = (/** @type {string} */ line) => console.log(line)
const started = Date.now()

const chromiumPath = CHROMIUM_PATH
const chromiumVersion = spawnSync(chromiumPath, ['--version'], { encoding: 'utf8' }).stdout?.trim() || `unknown (${chromiumPath})`
const machine = {
  date: new Date().toISOString(),
  cpus: cpus().length,
  cpu: cpus()[0]?.model ?? 'unknown',
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  chromium: chromiumVersion,
  peers: { 'reconnecting-websocket': packageVersion('reconnecting-websocket'), partysocket: packageVersion('partysocket'), 'socket.io-client': packageVersion('socket.io-client') },
}
const build = await steadysocketBuild(log)
log(`steadysocket: ${build.how}`)
log(`machine: ${machine.cpus} × ${machine.cpu}, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.chromium}`)
const { createSocket } = await import(pathToFileURL(build.file).href)

/** @type {Record<string, any>} */
const results = { machine, build: build.how, quick }
/** @type {{ budget: string, measured: string, pass: boolean }[]} */
const verdicts = []
/** @type {string[]} */
const md = []

if (only.has('cycles')) {
  log('\n## Reconnect cycles (sockets, timers, listeners)')
  const count = quick ? 200 : 1000
  const cycles = await runCycles({ createSocket, cycles: count, log })
  results.cycles = cycles
  const pass = cycles.results.every((r) => r.same)
  verdicts.push({ budget: `sockets, timers and listeners after ${count.toLocaleString('en-US')} reconnect cycles = after 1`, measured: pass ? 'same' : 'different', pass })
  md.push(
    '### Sockets, timers and listeners after reconnect cycles',
    '',
    '| cycle | after | native sockets (open / in memory) | server connections | timers | environment listeners | native socket listeners | calls per message | heap after GC |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...cycles.results.flatMap((r) =>
      /** @type {[number, typeof r.afterOne][]} */ ([
        [1, r.afterOne],
        [r.cycles, r.afterAll],
      ]).map(
        ([n, s]) =>
          `| ${r.how === 'drop' ? 'server drops (1006)' : 'socket.reconnect()'} | ${n} | ${s.nativeSockets} / ${s.nativeSocketsInMemory} | ${s.serverConnections} | ${s.timers} | ${s.environmentListeners} | ${s.nativeSocketListeners} | ${s.messageListenerCalls} | ${s.heapKiB} KiB |`,
      ),
    ),
    '',
    `After \`close()\`: ${Object.entries(cycles.afterClose).map(([k, v]) => `${k} ${v}`).join(', ')}. ` +
      `Heap after ${2 * (cycles.results[0]?.cycles ?? 0)} cycles: ${cycles.results.map((r) => `${r.heapKiBAfterTwice} KiB (${r.how})`).join(', ')}.`,
    '',
  )
}

if (only.has('storm')) {
  const clients = quick ? 2000 : 10_000
  log(`\n## ${clients.toLocaleString('en-US')} clients after an outage (virtual time)`)
  const storm = await runStorm({ createSocket, clients, singleTrials: quick ? 500 : 10_000, frontier: !quick, log })
  results.storm = storm
  verdicts.push(...stormVerdicts(storm))
  md.push(...stormMarkdown(storm))
  if (full) {
    log('\n## 100,000 clients after an outage (virtual time)')
    const large = await runStorm({ createSocket, clients: 100_000, singleTrials: 0, frontier: false, libraries: ['steadysocket'], log })
    results.storm100k = large
    md.push(...stormMarkdown(large, { title: 'The same with 100,000 clients (`--full`)' }))
  }
}

if (only.has('live')) {
  log('\n## Live check: real sockets against the test server, restarted with a 2 s outage')
  const live = await runLiveStorm({ createSocket, clients: quick ? 100 : 300, log })
  results.live = live
  md.push(
    `### Live check: ${live.live.clients} real sockets, the test server stopped for 2 s`,
    '',
    '```',
    ...liveLines(live.live, live.simulated),
    '```',
    '',
  )
}

if (only.has('throughput')) {
  log('\n## Per-message script time in Chromium')
  const throughput = await runThroughput({ steadysocketFile: build.file, messages: 10_000, rounds: quick ? 3 : 9, block: 100, log })
  results.throughput = throughput
  const steady = throughput.results.find((r) => r.kind === 'steadysocket')
  if (steady)
    verdicts.push({
      budget: `per-message script time ≤ ${throughput.budget}× native (median of ${throughput.rounds} rounds)`,
      measured: `${fixed(steady.ratio, 3)}× (rounds ${fixed(steady.ratioRange[0] ?? Number.NaN, 3)}–${fixed(steady.ratioRange[1] ?? Number.NaN, 3)})`,
      pass: steady.ratio <= throughput.budget,
    })
  const { native, steadysocket, added, ratio } = throughput.overhead
  md.push(
    `### Per-message main-thread script time in Chromium (${throughput.messages.toLocaleString('en-US')} messages × ${throughput.rounds} rounds)`,
    '',
    '| client | send + handler vs native (median; range over rounds) | send | receive handler |',
    '| --- | --- | --- | --- |',
    ...throughput.results.map(
      (r) =>
        `| ${r.kind} | ${fixed(r.ratio, 3)}× (${fixed(r.ratioRange[0] ?? Number.NaN, 2)}–${fixed(r.ratioRange[1] ?? Number.NaN, 2)}) | ${fixed(r.sendRatio, 2)}× (${fixed(r.sendUs, 1)} µs) | ${fixed(r.handlerRatio, 2)}× (${fixed(r.handlerUs, 1)} µs) |`,
    ),
    '',
    `Without the network (stub socket, same JSON work, median of 101 interleaved pairs): hand-written ${fixed(native, 0)} ns per message, ` +
      `steadysocket ${fixed(steadysocket, 0)} ns: ${added >= 0 ? '+' : ''}${fixed(added, 0)} ns, ${fixed(ratio, 3)}×.`,
    '',
  )
}

const header = [
  `Run ${machine.date.slice(0, 10)} on ${machine.cpus} × ${machine.cpu}, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.chromium}; ` +
    `reconnecting-websocket ${machine.peers['reconnecting-websocket']}, partysocket ${machine.peers.partysocket}, socket.io-client ${machine.peers['socket.io-client']}; steadysocket from ${build.how}${quick ? ' (--quick)' : ''}.`,
  '',
  '| budget | measured | |',
  '| --- | --- | --- |',
  ...verdicts.map((v) => `| ${v.budget} | ${v.measured} | ${v.pass ? 'pass' : '**fail**'} |`),
  '',
]
const markdown = [...header, ...md].join('\n')
mkdirSync(outDir, { recursive: true })
writeFileSync(join(outDir, 'results.json'), `${JSON.stringify({ ...results, verdicts }, null, 2)}\n`)
writeFileSync(join(outDir, 'results.md'), `${markdown}\n`)
log(`\n${verdicts.map((v) => `${v.pass ? 'PASS' : 'FAIL'}  ${v.budget}: ${v.measured}`).join('\n')}`)
log(`\nwrote bench/.out/results.json and bench/.out/results.md in ${fixed((Date.now() - started) / 1000, 0)} s`)
if (values.strict && verdicts.some((v) => !v.pass)) process.exitCode = 1
