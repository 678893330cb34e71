// @ts-check
// `npm run soak` (issue 14): the chaos rig of test/integration/chaos.test.ts (bench/lib/chaos.mjs)
// at full size. At least 1,000 seeded faults go through one fault proxy while 50 Node clients
// (the built dist/steadysocket.js, `ws` injected) and 4 clients in a Chromium page stream `send`
// and `deliver` through it; then the load-balanced fleet of test/integration/fleet.test.ts runs
// with 200 clients. Prints the figures of DESIGN 10, recovery times, the RSS and heap of the
// Node clients' process and the page's JS heap from start to end, and writes them to a JSON file.
//   node bench/soak.mjs [--minutes 11] [--seed 14] [--faults N] [--clients 50] [--page-clients 4]
//                       [--fleet-clients 200] [--out FILE]
// Exit status: 0 every figure held; 1 one did not, or the run broke; 2 bad flags.
import { spawn } from 'node:child_process'
import { accessSync, constants, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { parseArgs, stripVTControlCharacters } from 'node:util'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { CHROMIUM_PATH } from '../e2e/chromium.js'
import { startProxy, startServer } from '../test/server/index.js'
import { outDir, root } from './lib/artifacts.mjs'
import { createLedger, describeLedger, FAULT_KINDS, runFaults } from './lib/chaos.mjs'
import { startNodeClients } from './lib/soak-node.mjs'
import { openSoakPage } from './lib/soak-page.mjs'
import { percentiles, recoveryTimes } from './lib/soak-recovery.mjs'
import { fixed, seededRandom } from './lib/stats.mjs'

const DEFAULTS = { minutes: 11, seed: 14, clients: 50, 'page-clients': 4, 'fleet-clients': 200 }
/** Faults a run of the default length (or longer) must reach unless `--faults` says otherwise. */
const MIN_FAULTS = 1_000
/** Ms between two steps of each client's streams: what 54 clients, the proxy and the server sustain on 2 cores. */
const EVERY = 200
/** The pause after each fault, 100 ms + [0, 350) ms: with the faults' own durations about 0.5 s a fault, 1,300 in 11 minutes. */
const PAUSE = /** @type {[number, number]} */ ([100, 350])
/** The bound of every wait: all clients open, drained, deliveries settled. */
const WAIT = 30_000
/** The bound of the fleet's vitest run. */
const FLEET_WAIT = 5 * 60_000

const USAGE = `usage: node bench/soak.mjs [options]   (npm run soak -- [options] builds first)
  --minutes N         how long the faults go on (default ${DEFAULTS.minutes}); setup, drain and the fleet add about a minute and a half
  --seed S            the integer seed of the faults and the clients' jitter (default ${DEFAULTS.seed})
  --faults N          fail with fewer faults than N (default ${MIN_FAULTS} when --minutes is ${DEFAULTS.minutes} or more, else none)
  --clients N         Node clients (default ${DEFAULTS.clients})
  --page-clients N    clients in the Chromium page, 0 for none (default ${DEFAULTS['page-clients']})
  --fleet-clients N   clients of the fleet's rolling deploy afterwards, 0 to skip it (default ${DEFAULTS['fleet-clients']})
  --out FILE          the results file (default bench/.out/soak-<date>-seed<S>.json)`

/** @param {string} problem @returns {never} */
function usage(problem) {
  console.error(`soak: ${problem}\n${USAGE}`)
  process.exit(2)
}

/** @param {string} problem @returns {never} */
function fail(problem) {
  console.error(`soak: ${problem}`)
  process.exit(1)
}

function readOptions() {
  /** @type {Record<string, string | boolean | undefined>} */
  let values = {}
  const flag = /** @type {const} */ ({ type: 'string' })
  try {
    ;({ values } = parseArgs({
      options: { minutes: flag, seed: flag, faults: flag, clients: flag, 'page-clients': flag, 'fleet-clients': flag, out: flag, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }))
  } catch (error) {
    usage(/** @type {Error} */ (error).message)
  }
  if (values.help) {
    console.log(USAGE)
    process.exit(0)
  }
  /**
   * @param {keyof typeof DEFAULTS | 'faults'} name
   * @param {(value: number) => boolean} valid
   * @param {string} expected
   */
  const number = (name, valid, expected) => {
    const raw = /** @type {string | undefined} */ (values[name])
    if (raw === undefined) return name === 'faults' ? undefined : DEFAULTS[name]
    const value = Number(raw)
    if (raw.trim() === '' || !valid(value)) usage(`--${name} ${JSON.stringify(raw)}: expected ${expected}`)
    return value
  }
  const count = (/** @type {number} */ least) => (/** @type {number} */ value) => Number.isSafeInteger(value) && value >= least
  const minutes = /** @type {number} */ (number('minutes', (value) => Number.isFinite(value) && value > 0 && value <= 24 * 60, 'minutes above 0 (at most a day)'))
  const seed = /** @type {number} */ (number('seed', Number.isSafeInteger, 'an integer'))
  const out = /** @type {string | undefined} */ (values.out)
  if (out !== undefined && out.trim() === '') usage('--out: expected a file name')
  const stamp = new Date().toISOString().slice(0, 16).replace(':', '-')
  return {
    minutes,
    seed,
    faults: number('faults', count(0), 'a whole number') ?? (minutes >= DEFAULTS.minutes ? MIN_FAULTS : 0),
    clients: /** @type {number} */ (number('clients', count(1), 'a whole number above 0')),
    pageClients: /** @type {number} */ (number('page-clients', count(0), 'a whole number')),
    fleetClients: /** @type {number} */ (number('fleet-clients', count(0), 'a whole number')),
    out: resolve(out ?? join(outDir, `soak-${stamp}-seed${seed}.json`)),
  }
}

/** The built file, or why there is none; a warning when the sources are newer. */
function distFile() {
  const file = join(root, 'dist', 'steadysocket.js')
  if (!existsSync(file)) fail('dist/steadysocket.js is missing: run `npm run build` first (`npm run soak` does).')
  const src = join(root, 'src')
  const newest = Math.max(...readdirSync(src, { recursive: true, encoding: 'utf8' }).map((path) => statSync(join(src, path)).mtimeMs))
  if (newest > statSync(file).mtimeMs) console.warn('soak: warning: src/ is newer than dist/steadysocket.js; `npm run build` to soak the current sources')
  return file
}

const mb = (/** @type {number} */ bytes) => `${fixed(bytes / 2 ** 20, 1)} MB`
const ms = (/** @type {{ pairs: number, p50: number, p90: number, p99: number, max: number }} */ p) =>
  p.pairs ? `p50 ${fixed(p.p50, 0)}, p90 ${fixed(p.p90, 0)}, p99 ${fixed(p.p99, 0)}, max ${fixed(p.max, 0)} ms (${p.pairs} pairs)` : 'no pairs'
/**
 * One memory figure at the start, at the end and once a minute between, in bytes.
 * @template T
 * @param {T[]} samples the start, one a minute, the end
 * @param {(sample: T) => number} get
 */
function memoryFigure(samples, get) {
  const series = samples.map(get)
  const [start, end] = [/** @type {number} */ (series[0]), /** @type {number} */ (series.at(-1))]
  return { start, end, growth: end - start, series }
}
/** @param {ReturnType<typeof memoryFigure>} m */
const growth = (m) => `${mb(m.start)} → ${mb(m.end)} (${m.growth >= 0 ? '+' : ''}${mb(m.growth)}; start, each minute, end: ${m.series.map((bytes) => fixed(bytes / 2 ** 20, 1)).join(' ')})`
/** At most this many examples of a failing figure go into the results. */
const few = (/** @type {string[]} */ list) => ({ count: list.length, first: list.slice(0, 20) })

/**
 * The chaos part: clients, faults, drain, accounting.
 * @param {ReturnType<typeof readOptions>} options
 * @param {string} file the built steadysocket
 */
async function soak(options, file) {
  setFlagsFromString('--expose-gc')
  const gc = /** @type {() => void} */ (runInNewContext('gc'))
  const log = (/** @type {string} */ line) => console.log(line)
  const began = Date.now()
  const clock = () => {
    const s = Math.round((Date.now() - began) / 1000)
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`
  }
  /** @type {string[]} */
  const failures = []
  /** Per side, the reasons of the calls that were rejected. @param {PromiseSettledResult<unknown>[]} results @param {string} what */
  const rejected = (results, what) => {
    for (const result of results) if (result.status === 'rejected') failures.push(`${what}: ${/** @type {Error} */ (result.reason).message}`)
  }

  const server = await startServer({ mode: 'echo' })
  const proxy = await startProxy({ target: server })
  // What the server received: the sending sides, in the page and in the Node clients'
  // process, are merged in at the end. The server logs every frame; the ledger takes them in
  // every second, so memory holds counts, not minutes of frames.
  const ledger = createLedger()
  const absorbing = setInterval(() => ledger.absorb(server), 1000)
  const clients = { url: proxy.url, seed: options.seed, every: EVERY }
  /** @type {Awaited<ReturnType<typeof startNodeClients>> | undefined} */
  let node
  /** @type {Awaited<ReturnType<typeof openSoakPage>> | undefined} */
  let page
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let sampling
  try {
    node = await startNodeClients(file, { ...clients, first: 0, count: options.clients })
    page = options.pageClients > 0 ? await openSoakPage({ ...clients, first: options.clients, count: options.pageClients }) : undefined
    const sides = page ? [node, page] : [node]
    const each = (/** @type {(side: import('./lib/soak-clients.mjs').RemoteClients) => Promise<unknown>} */ step) => Promise.allSettled(sides.map(step))
    rejected(await each((side) => side.when('open', WAIT)), 'not every client open before the faults')
    if (failures.length > 0) throw new Error(failures.join('; '))
    log(`soak: ${options.clients} Node clients${page ? ` and ${options.pageClients} in Chromium ${page.chromium}` : ''} open on ${proxy.url}; faults for ${options.minutes} min, seed ${options.seed}`)

    const measure = async () => {
      gc()
      const own = process.memoryUsage().rss
      const { rss, heapUsed } = await /** @type {NonNullable<typeof node>} */ (node).memory()
      return { at: Date.now() - began, rss, heapUsed, pageHeap: page ? await page.heap() : null, soakRss: own }
    }
    const start = await measure()
    /** @type {Awaited<ReturnType<typeof measure>>[]} */
    const samples = [start]
    rejected(await each((side) => side.start()), 'streams not started')

    let faultCount = 0
    let busy = false
    sampling = setInterval(async () => {
      if (busy) return
      busy = true
      const sample = await measure()
      samples.push(sample)
      const notOpen = (await Promise.all(sides.map((side) => side.lagging('open')))).flat().length
      const all = options.clients + options.pageClients
      log(`  ${clock()}  ${faultCount} faults, ${all - notOpen} of ${all} open, Node clients' RSS ${mb(sample.rss)}, heap ${mb(sample.heapUsed)}${sample.pageHeap === null ? '' : `, page heap ${mb(sample.pageHeap)}`}`)
      busy = false
    }, 60_000)
    const faultsBegan = Date.now()
    const { counts, faults } = await runFaults({
      server,
      proxy,
      random: seededRandom(options.seed),
      deadline: faultsBegan + options.minutes * 60_000,
      pause: PAUSE,
      onFault: () => faultCount++,
    })
    const faultSeconds = (Date.now() - faultsBegan) / 1000
    clearInterval(sampling)
    rejected(await each((side) => side.stop()), 'streams not stopped')

    // Drain: every client open with nothing queued or unacknowledged, every deliver() settled.
    rejected(await each((side) => side.when('drained', WAIT)), 'not drained')
    rejected(await each((side) => side.settled(WAIT)), 'deliveries not settled')
    clearInterval(absorbing)
    ledger.absorb(server)
    const [nodeReport, pageReport] = await Promise.all([node.report(), page ? page.report() : { events: [], errors: {} }])
    for (const side of sides) ledger.merge(await side.side())
    const notOpen = (await Promise.all(sides.map((side) => side.lagging('open')))).flat()
    if (notOpen.length > 0) failures.push(`${notOpen.length} clients not open at the end: ${JSON.stringify(notOpen.slice(0, 5))}`)
    const end = await measure()
    samples.push(end)

    const r = ledger.report()
    const recovery = { node: recoveryTimes(faults, nodeReport.events), page: recoveryTimes(faults, pageReport.events) }
    const times = [...recovery.node.times, ...recovery.page.times]
    const faultOf = [...recovery.node.fault, ...recovery.page.fault]
    const byKind = Object.fromEntries(
      FAULT_KINDS.map((kind) => [kind, percentiles(times.filter((_, k) => faults[/** @type {number} */ (faultOf[k])]?.kind === kind))]),
    )
    const inPage = (/** @type {string[]} */ list) => list.filter((name) => Number(name.split(':')[0]) >= options.clients).length
    const events = (/** @type {typeof nodeReport.events} */ list) => list.reduce((sum, e) => sum + e.opens.length + e.closes.length, 0)
    const ownBytes = { node: (await node.ledgerBytes()) + 8 * events(nodeReport.events), page: page ? (await page.ledgerBytes()) + 8 * events(pageReport.events) : 0 }
    if (r.queuedLost.length > 0) failures.push(`${r.queuedLost.length} queued send frames lost (never written), e.g. ${r.queuedLost.slice(0, 5).join(' ')} (client:n)`)
    // DESIGN 5 puts back what a dead connection still held in its bufferedAmount, so a frame
    // can be written twice; what `send` must never do is make it arrive twice.
    if (r.arrivedTwice.length > 0) failures.push(`send duplicated: ${r.arrivedTwice.length} frames arrived twice, e.g. ${r.arrivedTwice.slice(0, 5).join(' ')} (client:n)`)
    if (r.outOfOrder > 0) failures.push(`${r.outOfOrder} clients' send frames arrived out of order`)
    if (r.deliveriesLost.length > 0) failures.push(`${r.deliveriesLost.length} deliveries lost, e.g. ${r.deliveriesLost.slice(0, 5).join(' ')} (client:n)`)
    if (Object.keys(r.rejected).length > 0) failures.push(`deliveries rejected: ${JSON.stringify(r.rejected)}`)
    if (faults.length < options.faults) failures.push(`only ${faults.length} faults fit in ${options.minutes} min; at least ${options.faults} needed`)
    if (page && page.errors.length > 0) failures.push(`uncaught errors in the page: ${page.errors.slice(0, 5).join('; ')}`)

    return {
      date: new Date(began).toISOString(),
      seed: options.seed,
      minutes: options.minutes,
      build: relative(root, file),
      node: process.version,
      chromium: page?.chromium ?? null,
      clients: { node: options.clients, page: options.pageClients, streamEveryMs: EVERY },
      faults: { total: faults.length, required: options.faults, seconds: faultSeconds, byKind: counts, pauseMs: PAUSE },
      connections: server.totalConnections,
      figures: describeLedger(r),
      send: {
        queued: r.queued,
        queuedLost: few(r.queuedLost),
        queuedLostInFlight: r.queuedLostInFlight,
        writtenAtOnce: r.writtenAtOnce,
        writtenLost: r.writtenLost,
        writtenTwice: { ...few(r.writtenTwice), page: inPage(r.writtenTwice) },
        arrivedTwice: few(r.arrivedTwice),
        clientsOutOfOrder: r.outOfOrder,
      },
      deliver: { total: r.deliveries, lost: few(r.deliveriesLost), resent: r.deliveriesResent, rejected: r.rejected, pending: r.pending },
      errors: { node: nodeReport.errors, page: pageReport.errors },
      pageErrors: page?.errors ?? [],
      recovery: {
        all: percentiles(times),
        node: percentiles(recovery.node.times),
        page: percentiles(recovery.page.times),
        byKind,
        unrecovered: recovery.node.unrecovered + recovery.page.unrecovered,
        events: events(nodeReport.events) + events(pageReport.events),
      },
      memory: {
        nodeRss: memoryFigure(samples, (sample) => sample.rss),
        soakRss: memoryFigure(samples, (sample) => sample.soakRss),
        nodeHeap: memoryFigure(samples, (sample) => sample.heapUsed),
        pageHeap: page ? memoryFigure(samples, (sample) => /** @type {number} */ (sample.pageHeap)) : null,
        ownRecords: ownBytes,
        samples,
      },
      // Every fault, [kind, start, end] in ms from the start of the run: where to look when a figure fails.
      timeline: faults.map((f) => [f.kind, f.start - began, f.end - began]),
      failures,
      /** @type {{ clients: number, exitCode: number | string | null, seconds: number, lines: string[] } | null} */
      fleet: null,
    }
  } finally {
    clearInterval(sampling)
    clearInterval(absorbing)
    node?.close()
    await page?.close()
    await proxy.close()
    await server.close()
  }
}

/** @param {Awaited<ReturnType<typeof soak>>} result */
function summary(result) {
  const { recovery, memory, send } = result
  const errors = (/** @type {Record<string, number>} */ e) => JSON.stringify(e)
  return [
    `soak (seed ${result.seed}): ${result.faults.total} faults in ${fixed(result.faults.seconds / 60, 1)} min ${JSON.stringify(result.faults.byKind)}, ` +
      `${result.clients.node} Node clients and ${result.clients.page} in Chromium${result.chromium ? ` ${result.chromium}` : ''}, ${result.connections} connections`,
    `  ${result.figures}`,
    ...(send.writtenTwice.count > 0
      ? [`  written twice: ${send.writtenTwice.first.slice(0, 5).join(' ')} (client:n; ${send.writtenTwice.page} of ${send.writtenTwice.count} in the page): DESIGN 5 puts back what a dead connection's bufferedAmount still held; arrived twice: ${send.arrivedTwice.count}`]
      : []),
    `  errors: Node ${errors(result.errors.node)}, page ${errors(result.errors.page)}`,
    `  open again after a fault's end (per client and fault that closed its connection): ${ms(recovery.all)}`,
    `    Node ${ms(recovery.node)}; page ${ms(recovery.page)}; never open again: ${recovery.unrecovered}`,
    `    by fault, p50/p99 ms: ${Object.entries(recovery.byKind).map(([kind, p]) => `${kind} ${p.pairs ? `${fixed(p.p50, 0)}/${fixed(p.p99, 0)}` : '–'}`).join(', ')}`,
    `  memory after a GC, from all open to all drained (the soak's own records: Node ${mb(memory.ownRecords.node)}, page ${mb(memory.ownRecords.page)}):`,
    `    Node clients' process: RSS ${growth(memory.nodeRss)}`,
    `                           JS heap ${growth(memory.nodeHeap)}`,
    ...(memory.pageHeap ? [`    page: JS heap ${growth(memory.pageHeap)}`] : []),
    `    (the soak's own process, with the server, the proxy and Playwright: RSS ${growth(memory.soakRss)})`,
    result.failures.length === 0
      ? '  DESIGN 10: queued lost 0, send duplicates 0, deliveries lost 0, every client open at the end: met'
      : `  FAILED:\n${result.failures.map((line) => `    - ${line}`).join('\n')}`,
  ].join('\n')
}

/**
 * The fleet of test/integration/fleet.test.ts at full size, in its own vitest run; its output
 * goes through, and its `fleet:` lines into the results.
 * @param {number} clients
 */
async function fleet(clients) {
  const began = Date.now()
  const child = spawn(process.execPath, [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--project', 'integration', 'test/integration/fleet.test.ts'], {
    cwd: root,
    env: { ...process.env, FLEET_CLIENTS: String(clients) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let text = ''
  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk)
    text += chunk
  })
  child.stderr.on('data', (chunk) => process.stderr.write(chunk))
  const timer = setTimeout(() => child.kill('SIGTERM'), FLEET_WAIT)
  /** @type {number | string | null} */
  const exitCode = await new Promise((resolve) => child.once('close', (code, signal) => resolve(code ?? signal)))
  clearTimeout(timer)
  const lines = stripVTControlCharacters(text).split('\n').filter((line) => line.startsWith('fleet:'))
  return { clients, exitCode, seconds: (Date.now() - began) / 1000, lines }
}

const options = readOptions()
const file = distFile()
if (options.pageClients > 0) {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK)
  } catch {
    fail(`no Chromium at ${CHROMIUM_PATH}: install it (Debian: apt-get install -y chromium), set CHROMIUM_PATH, or run with --page-clients 0`)
  }
}
const result = await soak(options, file)
const write = () => {
  mkdirSync(dirname(options.out), { recursive: true })
  writeFileSync(options.out, `${JSON.stringify(result, null, 2)}\n`)
}
write()
console.log(summary(result))
console.log(`results: ${relative(process.cwd(), options.out)}`)
let failed = result.failures.length > 0
if (options.fleetClients > 0) {
  console.log(`\nsoak: the fleet's rolling deploy with ${options.fleetClients} clients (test/integration/fleet.test.ts)`)
  result.fleet = await fleet(options.fleetClients)
  write()
  const ok = result.fleet.exitCode === 0
  failed ||= !ok
  console.log(`soak: fleet of ${options.fleetClients} ${ok ? 'passed' : `FAILED (exit ${result.fleet.exitCode})`} in ${fixed(result.fleet.seconds, 0)} s${result.fleet.lines.length ? `\n  ${result.fleet.lines.join('\n  ')}` : ''}`)
  console.log(`results: ${relative(process.cwd(), options.out)}`)
}
process.exit(failed ? 1 : 0)
