import type { AddressInfo } from 'node:net'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, test } from 'vitest'
import { WebSocketServer } from 'ws'
import { startServer, type TestServer } from '../test/server/index.js'
import { launchCdpChromium, type CdpChromium } from './cdp-chromium'
import { startBackend, startStatic, type StaticServer } from './harness'

// What a default Playwright launch cannot show: a tab in the background of a Chromium
// that throttles it as it throttles users' tabs (intensive wake-up throttling after 10 s
// hidden instead of 5 min, no focus emulation), and a page frozen by the Page Lifecycle.
// The scenarios run side by side (each in its own tab, hidden behind one front tab) so
// the suite stays within a few minutes.

const INTERVAL = 5000
/** The default heartbeat.timeout. */
const TIMEOUT = 10000
/** How long (a) and (d) watch a hidden tab. */
const HIDDEN = 90_000
/** How long (c) keeps a tab frozen. */
const FROZEN = 20_000

let cdp: CdpChromium
let web: StaticServer
let front: Page

beforeAll(async () => {
  web = await startStatic()
  cdp = await launchCdpChromium({ graceSeconds: 10 })
  front = await cdp.newPage('about:blank')
})

afterAll(async () => {
  await cdp?.close()
  await web?.close()
})

/** A frame as the server received it, with the time of arrival (epoch ms). */
interface Arrival {
  conn: number
  data: string
  at: number
}

/** A server that sends nothing of its own, answers `ping` with `pong` and records when every client frame arrived. */
async function startPingServer() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  const arrivals: Arrival[] = []
  let connections = 0
  wss.on('connection', (ws) => {
    const conn = ++connections
    ws.on('message', (data) => {
      arrivals.push({ conn, data: String(data), at: Date.now() })
      if (String(data) === 'ping') ws.send('pong')
    })
  })
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    arrivals,
    get connections() {
      return connections
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate()
        wss.close(() => resolve())
      }),
  }
}

// One tab at a time is in front while it connects; the others wait their turn.
let turn = Promise.resolve()

/**
 * Opens `page` (background.html), runs `start` in it while it is in front, then brings the
 * front tab forward so `page` is hidden; resolves once the page says it is hidden.
 */
function openThenHide(file: string, start: (page: Page) => Promise<void>) {
  const run = turn.then(async () => {
    const page = await cdp.newPage(`${web.url}/${file}`)
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(String(error)))
    await page.waitForFunction(() => window.harness !== undefined)
    await start(page)
    await front.bringToFront()
    // Hidden pages run no animation frames: poll from here, not with requestAnimationFrame.
    await page.waitForFunction(() => document.visibilityState === 'hidden', undefined, { polling: 100 })
    return { page, errors, hiddenAt: Date.now() }
  })
  turn = run.then(
    () => {},
    () => {},
  )
  return run
}

const untilOpen = (page: Page) => page.waitForFunction(() => window.harness.status() === 'open', undefined, { polling: 100 })

/** Waits `ms` of wall time: the length of an observation the issue fixes, not a guess at how long something takes. */
const watch = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Gaps between `start`, each ping, and `end`: the longest stretch the server went without a ping. */
function pingGaps(arrivals: Arrival[], start: number, end: number) {
  const times = arrivals.filter((a) => a.data === 'ping' && a.at >= start && a.at <= end).map((a) => a.at)
  return [start, ...times, end].slice(1).map((time, i, list) => time - (i === 0 ? start : list[i - 1]!))
}

interface PageRecord {
  events: string[]
  stamps: Array<{ event: string; at: number }>
  debugLines: string[]
  visibility: string
}
const record = (page: Page): Promise<PageRecord> =>
  page.evaluate(() => ({
    events: window.harness.events,
    stamps: window.stamps,
    debugLines: window.debugLines,
    visibility: document.visibilityState,
  }))

declare global {
  interface Window {
    workerTimers: typeof import('steadysocket/worker-timers').workerTimers
    stamps: Array<{ event: string; at: number }>
    debugLines: string[]
    chainTicks: number[]
    startChain(): void
  }
}

describe.concurrent('a tab in the background of a throttling Chromium', () => {
  test.for([
    ['the page timers', false],
    ['workerTimers()', true],
  ] as const)(
    'with the heartbeat on %s, a hidden tab pings at least every interval + 2 s for 90 s and sees no false timeout',
    { timeout: HIDDEN + 60_000 },
    async ([, inWorker], { expect }) => {
      const server = await startPingServer()
      try {
        const { page, errors, hiddenAt } = await openThenHide('background.html', async (page) => {
          await page.evaluate(
            ({ url, interval, inWorker }) =>
              window.harness.open([url], {
                heartbeat: { interval },
                ...(inWorker && { environment: window.workerTimers({ debug: (line) => window.debugLines.push(line) }) }),
              }),
            { url: server.url, interval: INTERVAL, inWorker },
          )
          await untilOpen(page)
          await page.evaluate(() => window.startChain())
        })
        await watch(HIDDEN)
        const end = Date.now()
        const gaps = pingGaps(server.arrivals, hiddenAt, end)
        const seen = await record(page)
        const chain = await page.evaluate(() => window.chainTicks)
        const chainGap = Math.max(...[...chain, end].slice(1).map((time, i) => time - chain[i]!))
        console.info(
          `[background] ${inWorker ? 'workerTimers' : 'page timers'}: ${gaps.length - 1} pings in ${end - hiddenAt} ms hidden, gaps ${gaps.join(', ')} ms; a 1 s timer chain in the same page waited up to ${chainGap} ms`,
        )

        expect(seen.visibility).toBe('hidden')
        // The page was throttled as users' tabs are: the chain waited far longer than its 1 s.
        expect(chainGap).toBeGreaterThanOrEqual(20_000)
        expect(Math.max(...gaps), `gaps between pings: ${gaps.join(', ')} ms`).toBeLessThanOrEqual(INTERVAL + 2000)
        expect(seen.events).toEqual(['open'])
        expect(server.connections).toBe(1)
        expect(seen.debugLines).toEqual([])
        expect(errors).toEqual([])
      } finally {
        await server.close()
      }
    },
  )

  test('a blackholed path in a hidden tab is declared dead within interval + timeout + 2 s, then it reconnects', async ({ expect }) => {
    const backend = await startBackend()
    try {
      // The first attempt goes through the fault proxy, every later one straight to the server.
      const { page, errors, hiddenAt } = await openThenHide('background.html', async (page) => {
        await page.evaluate(
          ({ urls, interval }) => window.harness.open(urls, { heartbeat: { interval } }),
          { urls: [backend.proxy.url, backend.server.url], interval: INTERVAL },
        )
        await untilOpen(page)
      })
      // Past the 10 s grace period: intensive throttling is in force when the path dies.
      await watch(hiddenAt + 15_000 - Date.now())
      const blackholedAt = Date.now()
      await backend.command('/blackhole?on=1')
      await backend.server.waitFor((server) => server.totalConnections === 2, INTERVAL + TIMEOUT + 20_000)
      await backend.server.waitFor((server) => server.connections === 2)
      const seen = await record(page)
      const dead = seen.stamps.find((stamp) => stamp.event === 'close:4000')
      console.info(`[background] blackhole: declared dead after ${dead ? dead.at - blackholedAt : '—'} ms`)

      expect(seen.visibility).toBe('hidden')
      expect(dead!.at - blackholedAt).toBeLessThanOrEqual(INTERVAL + TIMEOUT + 2000)
      await expect.poll(async () => (await record(page)).events, { interval: 250, timeout: 10_000 }).toEqual([
        'open',
        'error:TimeoutError',
        'close:4000:heartbeat timeout:retry',
        'reconnecting:1',
        'open:reconnect',
      ])
      expect(backend.proxy.swallowed.up).toBeGreaterThan(0)
      expect(errors).toEqual([])
    } finally {
      await backend.close()
    }
  }, 90_000)

  test('a tab frozen for 20 s is open again within 1 s of resume, its subscription re-sent once', async ({ expect }) => {
    const server: TestServer = await startServer({ mode: 'pubsub' })
    try {
      const subscribes = () => server.log.filter((entry) => String(entry.data).includes('"subscribe"')).map((entry) => entry.conn)
      const { page, errors } = await openThenHide('background.html', async (page) => {
        await page.evaluate(
          ({ url, interval }) => {
            window.harness.open([url], { heartbeat: { interval } })
            window.harness.socket!.subscribe('news', { subscribe: { type: 'subscribe', topic: 'news' } })
          },
          { url: server.url, interval: INTERVAL },
        )
        await untilOpen(page)
        await server.waitFor(() => subscribes().length === 1)
      })
      const session = await cdp.context.newCDPSession(page)
      await session.send('Page.setWebLifecycleState', { state: 'frozen' })
      await watch(FROZEN)
      const resumedAt = Date.now()
      await session.send('Page.setWebLifecycleState', { state: 'active' })
      await server.waitFor(() => subscribes().length === 2, 10_000)
      // A marker after the re-sent subscription: a duplicate on this connection would come before it.
      await page.evaluate(() => window.harness.send({ type: 'marker' }))
      await server.waitFor((s) => s.log.some((entry) => String(entry.data).includes('marker')))
      const seen = await record(page)
      const reopened = seen.stamps.find((stamp) => stamp.event === 'open:reconnect')
      const timeline = seen.stamps.map((stamp) => `${stamp.event}@${stamp.at - resumedAt}`).join(' ')
      console.info(`[background] freeze: open again ${reopened ? reopened.at - resumedAt : '—'} ms after resume; ms from resume: ${timeline}; events ${seen.events.join(' ')}`)

      expect(reopened!.at - resumedAt, `ms from resume: ${timeline}`).toBeLessThanOrEqual(1000)
      expect(subscribes()).toEqual([1, 2])
      expect(server.totalConnections).toBe(2)
      expect(await page.evaluate(() => window.harness.status())).toBe('open')
      expect(errors).toEqual([])
    } finally {
      await server.close()
    }
  }, 90_000)

  test('where a CSP blocks workers, workerTimers() runs on the page timers and says so once', async ({ expect }) => {
    const server = await startPingServer()
    try {
      const { page, errors } = await openThenHide('background-csp.html', async (page) => {
        await page.evaluate(
          (url) =>
            window.harness.open([url], {
              heartbeat: { interval: 300, timeout: 300 },
              environment: window.workerTimers({ debug: (line) => window.debugLines.push(line) }),
            }),
          server.url,
        )
        await untilOpen(page)
        // Three heartbeat rounds: the timers run, though not in a worker.
        await page.waitForFunction(() => window.harness.socket!.state.rtt !== null, undefined, { polling: 100 })
        await expect.poll(() => server.arrivals.filter((a) => a.data === 'ping').length, { interval: 100, timeout: 10_000 }).toBeGreaterThanOrEqual(3)
      })
      const seen = await record(page)

      expect(seen.debugLines).toEqual(['[steadysocket] workerTimers: page timers (no Worker)'])
      expect(seen.events).toEqual(['open'])
      expect(errors).toEqual([])
    } finally {
      await server.close()
    }
  }, 30_000)
})
