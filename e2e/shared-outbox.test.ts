import type { Page } from 'playwright-core'
import { beforeEach, describe, expect, test } from 'vitest'
import { useChromium } from './use-chromium'
import { polling, useTabs } from './use-tabs'
// `window.tab` (e2e/pages/shared.js) and `window.outbox` (outbox.js) are typed there.
import type {} from './outbox-store.test'
import type {} from './shared.test'

// `steadysocket/shared` with `queue.store: indexedDBStore({ name })` (DESIGN 11: "with
// steadysocket/shared, the leader flushes"), built files in several pages of one Chromium
// context, against an echo server on 127.0.0.1: its echo of a delivery is the acknowledgement.
// Each test checks the server's log (labels, ids, connections) and how every tab's promises settled.

/** `window.durable` from e2e/pages/shared-outbox.js. */
interface Durable {
  outcomes: Record<string, string>
  restored: string[]
  open(url: string, name: string): void
  deliver(labels: string[]): void
}

declare global {
  interface Window {
    durable: Durable
  }
}

const launched = useChromium()
const tabs = useTabs(launched, 15000)
/** The test's store name. */
let name: string
let runs = 0
beforeEach(() => {
  name = `e2e:shared-outbox-${++runs}`
})

/** Tabs of `e2e/pages/shared-outbox.html`, each with its shared socket open on the store `name`. */
const openTabs = (count: number): Promise<Page[]> =>
  tabs.open(count, 'shared-outbox.html', async (page, url) => {
    await page.waitForFunction(() => window.durable !== undefined && window.outbox !== undefined, undefined, polling)
    await page.evaluate(([u, n]) => window.durable.open(u, n), [url, name] as const)
  })

const TABS = ['a', 'b', 'c'] as const
/** The labels tab `tab` delivers: `a0`, `a1`… */
const labels = (tab: string, count: number) => Array.from({ length: count }, (_, n) => `${tab}${n}`)
/** Every tab delivers its labels, in order, without waiting for the acks. */
const deliverAll = (pages: Page[], count: number) =>
  Promise.all(pages.map((page, i) => page.evaluate((list) => window.durable.deliver(list), labels(TABS[i]!, count))))
const outcomes = (page: Page) => page.evaluate(() => window.durable.outcomes)
const allOk = (tab: string, count: number) => Object.fromEntries(labels(tab, count).map((label) => [label, 'ok']))
/** Waits (bounded) until no delivery of the tab is pending; the test then compares the outcomes, so a hang shows which. */
const untilSettled = (page: Page, timeout = 10000) =>
  page
    .waitForFunction(() => Object.values(window.durable.outcomes).every((outcome) => outcome !== 'pending'), undefined, { ...polling, timeout })
    .catch(() => {})
/** Waits until the store's database holds `count` frames (read from `page`, a tab of the same origin). */
const untilStored = (page: Page, count: number) => page.evaluate(([n, c]) => window.outbox.untilRows(n, c), [name, count] as const)

type Arrival = { conn: number; label: string; id: string }
const arrivals = (): Arrival[] => tabs.server.log.map(({ conn, data }) => ({ conn, ...(JSON.parse(String(data)) as { label: string; id: string }) }))
/** How many distinct ids the server saw for each label: 1 everywhere when re-sends kept their id. */
function idsPerLabel() {
  const ids = new Map<string, Set<string>>()
  for (const { label, id } of arrivals()) ids.set(label, (ids.get(label) ?? new Set()).add(id))
  return Object.fromEntries([...ids].map(([label, set]) => [label, set.size]).sort())
}
const onePerLabel = (count: number) => Object.fromEntries(TABS.flatMap((tab) => labels(tab, count)).map((label) => [label, 1]).sort())
const events = (pages: Page[]) => Promise.all(pages.map((page) => page.evaluate(() => window.tab.events)))
const arrived = (label: string, after = 0) => arrivals().some((arrival) => arrival.label === label && arrival.conn > after)

describe('steadysocket/shared with a durable outbox in Chromium', { timeout: 30000 }, () => {
  test("three tabs deliver over one connection: every tab's promises resolve, acks reach no tab as messages", async () => {
    const pages = await openTabs(3)
    await deliverAll(pages, 10)
    await tabs.server.waitFor(() => TABS.every((tab) => labels(tab, 10).every((label) => arrived(label))), 10000)
    await Promise.all(pages.map((page) => untilSettled(page)))

    expect(await Promise.all(pages.map(outcomes))).toEqual(TABS.map((tab) => allOk(tab, 10)))
    expect(idsPerLabel()).toEqual(onePerLabel(10))
    expect([tabs.server.totalConnections, [...new Set(arrivals().map((arrival) => arrival.conn))]]).toEqual([1, [1]])
    expect(await Promise.all(pages.map((page) => page.evaluate(() => window.tab.messages)))).toEqual([[], [], []])
    expect(await events(pages)).toEqual([['role:leader', 'open'], ['open'], ['open']])
  })

  test("the server comes back: the leader's one connection flushes every tab's deliveries, in each tab's order", async () => {
    const pages = await openTabs(3)
    await tabs.server.stop()
    for (const page of pages) await page.waitForFunction(() => window.tab.status() !== 'open', undefined, polling)
    await deliverAll(pages, 5)
    // Every call reached the leader's core: stored, before the server is back.
    await untilStored(pages[0]!, 15)
    await tabs.server.start()
    await Promise.all(pages.map((page) => untilSettled(page)))

    expect(await Promise.all(pages.map(outcomes))).toEqual(TABS.map((tab) => allOk(tab, 5)))
    expect(idsPerLabel()).toEqual(onePerLabel(5))
    const first = [...new Set(arrivals().map((arrival) => arrival.label))]
    expect(TABS.map((tab) => first.filter((label) => label.startsWith(tab)))).toEqual(TABS.map((tab) => labels(tab, 5)))
    expect([tabs.server.totalConnections, tabs.server.connections, [...new Set(arrivals().map((arrival) => arrival.conn))]]).toEqual([2, 1, [2]])
    // Each refused attempt while the server was down is also an `error:ConnectionError`: as many as timing allows.
    const seen = (await events(pages)).map((list) => list.filter((event) => event !== 'error:ConnectionError'))
    expect(seen).toEqual([['role:leader', 'open', 'close:1006:retry', 'open:reconnect'], ...Array(2).fill(['open', 'close:1006:retry', 'open:reconnect'])])
    await untilStored(pages[0]!, 0)
  })

  for (const how of ['crashes', 'closes'] as const)
    test(`the leader ${how} with deliveries unacknowledged: the new leader re-sends every tab's, the gone tab's from IndexedDB`, async () => {
      // Frames are logged, nothing is acknowledged.
      tabs.server.silent(true)
      const [a, b, c] = await openTabs(3)
      await deliverAll([a!, b!, c!], 5)
      await tabs.server.waitForLog(15, 10000)
      await untilStored(b!, 15)
      const gone = arrivals().flatMap(({ label, id }) => (label.startsWith('a') ? [[label, id]] : []))

      if (how === 'closes') await a!.close()
      else {
        const crashed = new Promise((resolve) => a!.once('crash', resolve))
        // Page.crash is never answered: the renderer it would answer from is gone.
        void (await tabs.context.newCDPSession(a!)).send('Page.crash').catch(() => {})
        await crashed
      }
      tabs.server.silent(false)
      await b!.waitForFunction(() => window.tab.role() === 'leader', undefined, polling)
      await tabs.server.waitFor(() => labels('a', 5).every((label) => arrived(label, 1)), 10000)
      await Promise.all([untilSettled(b!), untilSettled(c!)])

      expect([await outcomes(b!), await outcomes(c!)]).toEqual([allOk('b', 5), allOk('c', 5)])
      expect(idsPerLabel()).toEqual(onePerLabel(5))
      // The gone tab's deliveries came again, with their ids, on the new leader's connection.
      const again = arrivals().flatMap(({ conn, label, id }) => (conn > 1 && label.startsWith('a') ? [[label, id]] : []))
      expect([...new Map(again as [string, string][])]).toEqual(gone)
      expect(await b!.evaluate(() => window.durable.restored)).toEqual(expect.arrayContaining(gone.map(([, id]) => id)))
      expect([await b!.evaluate(() => window.tab.messages), await c!.evaluate(() => window.tab.messages)]).toEqual([[], []])
      expect([tabs.server.totalConnections, tabs.server.connections]).toEqual([2, 1])
      expect(await events([b!, c!])).toEqual([
        ['open', 'role:leader', 'close:1001:retry', 'open:reconnect'],
        ['open', 'close:1001:retry', 'open:reconnect'],
      ])
      await untilStored(b!, 0)
    })
})
