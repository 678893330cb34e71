// @ts-check
// 10,000 clients reconnecting after an outage (DESIGN 10: the busiest 100 ms of attempts
// holds at most 3 % of the clients). Runs the real createSocket against a fake network in
// virtual time; the peers run the same way with the global timers swapped for the
// virtual ones while they run.
import { pathToFileURL } from 'node:url'
import ReconnectingWebSocket from 'reconnecting-websocket'
import { WebSocket as PartySocketWebSocket } from 'partysocket'
import { steadysocketBuild } from './lib/artifacts.mjs'
import { createFakeNetwork } from './lib/fake-network.mjs'
import { busiestWindow, fixed, quantile, seededRandom } from './lib/stats.mjs'
import { createVirtualTime } from './lib/virtual-time.mjs'

const WINDOW = 100
const BUDGET = 0.03
const DOWN_FOR = [0, 2_000, 10_000, 60_000]
/** Long enough for every library's initial connection to count as stable (stableAfter / minUptime 5 s). */
const SETTLE = 6_000

/**
 * @typedef {{ code: number, reason: string, wasClean: boolean }} CloseInit
 * @typedef {{ name: string, library: string, downFor: number, closeFor?: (index: number, random: () => number) => CloseInit, retry?: object }} Scenario
 * @typedef {ReturnType<typeof createVirtualTime>} VirtualTime
 * @typedef {{ time: VirtualTime, net: import('./lib/fake-network.mjs').FakeNetwork, random: () => number, retry?: object }} Context
 * @typedef {{ close(): void }} Client
 */

const abnormal = () => ({ code: 1006, reason: '', wasClean: false })

/** @type {Record<string, { async: boolean, make: (context: Context, createSocket: Function) => Client }>} */
const libraries = {
  steadysocket: {
    async: false,
    make: ({ time, net, random, retry }, createSocket) =>
      createSocket('ws://127.0.0.1/storm', {
        WebSocket: net.WebSocket,
        environment: {
          online: () => true,
          listen: () => () => {},
          now: time.now,
          setTimeout: time.setTimeout,
          clearTimeout: time.clearTimeout,
        },
        // The default policy; only the random source is seeded so runs repeat.
        retry: { ...retry, random },
        on: { error: () => {} },
      }),
  },
  partysocket: {
    async: true,
    make: ({ net }) => new PartySocketWebSocket('ws://127.0.0.1/storm', undefined, { WebSocket: net.WebSocket }),
  },
  'reconnecting-websocket': {
    async: true,
    // Its default minReconnectionDelay is `1000 + Math.random() * 4000`, drawn once per page
    // load; 10,000 browsers draw it 10,000 times, so each client gets its own draw here.
    make: ({ net, random }) =>
      new ReconnectingWebSocket('ws://127.0.0.1/storm', undefined, {
        WebSocket: net.WebSocket,
        minReconnectionDelay: 1000 + random() * 4000,
      }),
  },
}

/**
 * One outage: N clients open and stable, the server ends every connection at once and
 * refuses new ones for `downFor` ms, then accepts again; runs until all are open again.
 * @param {Scenario} scenario
 * @param {number} clients
 * @param {Function} createSocket
 */
export async function episode(scenario, clients, createSocket) {
  const time = createVirtualTime()
  const net = createFakeNetwork(time)
  const random = seededRandom(0x5eed ^ scenario.downFor)
  const library = /** @type {(typeof libraries)[string]} */ (libraries[scenario.library])
  const saved = { setTimeout: globalThis.setTimeout, clearTimeout: globalThis.clearTimeout }
  if (library.async) {
    // The peers call the global timers; while they run, those are the virtual ones.
    globalThis.setTimeout = /** @type {any} */ (time.setTimeout)
    globalThis.clearTimeout = /** @type {any} */ (time.clearTimeout)
  }
  /** @type {Client[]} */
  const sockets = []
  try {
    const run = library.async ? time.runUntilAsync : (/** @type {number} */ until, /** @type {() => boolean} */ done) => time.runUntil(until, done)
    for (let i = 0; i < clients; i++) sockets.push(library.make({ time, net, random, retry: scenario.retry }, createSocket))
    await run(time.now() + SETTLE, () => false)
    if (net.open !== clients) throw new Error(`${scenario.name}: only ${net.open} of ${clients} clients opened before the outage`)
    const start = time.now()
    const back = start + scenario.downFor
    const firstAttempt = net.attempts.length
    const firstOpen = net.opens.length
    if (scenario.downFor > 0) {
      net.up = false
      // Set before the drop so that at `back` the server is up before any retry runs.
      time.setTimeout(() => (net.up = true), scenario.downFor)
    }
    const closeFor = scenario.closeFor ?? abnormal
    net.dropAll((index) => closeFor(index, random))
    await run(back + 600_000, () => time.now() >= back && net.open === clients)
    const attempts = net.attempts.slice(firstAttempt)
    const afterBack = attempts.filter((t) => t >= back)
    const reopened = net.opens.slice(firstOpen).map((t) => t - start)
    const all = busiestWindow(attempts, WINDOW)
    const after = busiestWindow(afterBack, WINDOW)
    return {
      name: scenario.name,
      library: scenario.library,
      downFor: scenario.downFor,
      clients,
      reconnected: net.open,
      // Each client should open exactly once after the outage; more would be duplicate connections.
      opens: reopened.length,
      attempts: attempts.length,
      busiestAll: { count: all.count, share: all.count / clients, at: all.start - start },
      busiestAfterBack: { count: after.count, share: after.count / clients, at: after.start - start },
      backP50: quantile(reopened, 0.5),
      backMax: Math.max(...reopened),
    }
  } finally {
    for (const socket of sockets) socket.close()
    globalThis.setTimeout = saved.setTimeout
    globalThis.clearTimeout = saved.clearTimeout
  }
}

/** @returns {Scenario[]} */
export function scenarios({ peers = true } = {}) {
  /** @type {Scenario[]} */
  const list = []
  for (const downFor of DOWN_FOR) list.push({ name: `1006, down ${downFor / 1000} s`, library: 'steadysocket', downFor })
  list.push({
    name: '1001 + {"retryAfter":5000} to all, down 5 s',
    library: 'steadysocket',
    downFor: 5_000,
    closeFor: () => ({ code: 1001, reason: '{"retryAfter":5000}', wasClean: true }),
  })
  list.push({
    name: '1001 + retryAfter spread by the server over 5–15 s, down 5 s',
    library: 'steadysocket',
    downFor: 5_000,
    closeFor: (_index, random) => ({ code: 1001, reason: JSON.stringify({ retryAfter: Math.round(5_000 + random() * 10_000) }), wasClean: true }),
  })
  // What the budget takes: a first retry spread over several seconds.
  for (const initialDelay of [5_000, 8_000])
    for (const downFor of DOWN_FOR)
      list.push({ name: `retry.initialDelay ${initialDelay}, 1006, down ${downFor / 1000} s`, library: 'steadysocket', downFor, retry: { initialDelay } })
  if (peers)
    for (const library of ['partysocket', 'reconnecting-websocket'])
      for (const downFor of DOWN_FOR) list.push({ name: `1006, down ${downFor / 1000} s`, library, downFor })
  return list
}

/**
 * @param {{ createSocket: Function, clients?: number, peers?: boolean, log?: (line: string) => void }} options
 */
export async function runStorm({ createSocket, clients = 10_000, peers = true, log = () => {} }) {
  const results = []
  for (const scenario of scenarios({ peers })) {
    const started = performance.now()
    const result = await episode(scenario, clients, createSocket)
    results.push(result)
    log(
      `${result.library.padEnd(22)} ${result.name.padEnd(58)} busiest 100 ms: all ${pct(result.busiestAll.share)}, after back ${pct(result.busiestAfterBack.share)}` +
        `  (${result.attempts} attempts, all open by +${fixed(result.backMax / 1000, 1)} s; ${fixed((performance.now() - started) / 1000, 1)} s real)` +
        (result.opens === clients ? '' : `  WARNING: ${result.opens} opens for ${clients} clients`),
    )
  }
  return { window: WINDOW, budget: BUDGET, results }
}

/** @param {number} share */
export const pct = (share) => `${fixed(share * 100, 2)} %`

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { file, how } = await steadysocketBuild(console.log)
  console.log(`steadysocket: ${how}`)
  const { createSocket } = await import(pathToFileURL(file).href)
  const clients = Number(process.env.BENCH_CLIENTS ?? 10_000)
  await runStorm({ createSocket, clients, log: console.log })
}
