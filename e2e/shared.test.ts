import type { Page } from 'playwright-core'
import { describe, expect, test } from 'vitest'
import { useChromium } from './use-chromium'
import { polling, useTabs } from './use-tabs'

// `steadysocket/shared` built (dist/shared.js, the core by package name through an import
// map) in several pages of one Chromium context: tabs of one origin, 127.0.0.1 being a
// secure context. Each test checks what the server saw and what every tab reported.

interface SharedTab {
  socket: import('steadysocket/shared').SharedSocket<any, any>
  events: string[]
  messages: unknown[]
  open(url: string, options?: Record<string, unknown>): void
  subscribe(key: string, spec: unknown): void
  release(key: string): void
  role(): string | undefined
  status(): string | undefined
}

/** The IIFE page: the CDN global, and the shared socket a test makes with it. */
type IifeWindow = { SteadySocket: typeof import('steadysocket/shared'); shared: SharedTab['socket'] }

declare global {
  interface Window {
    tab: SharedTab
  }
}

const launched = useChromium()
const tabs = useTabs(launched, 20000)

/** Tabs of `e2e/pages/shared.html`, each with its shared socket opened with `options` and open. */
const openTabs = (count: number, options: Record<string, unknown> = {}) =>
  tabs.open(count, 'shared.html', async (page, url) => {
    await page.waitForFunction(() => window.tab !== undefined, undefined, polling)
    await page.evaluate(([u, o]) => window.tab.open(u, o), [url, options] as const)
  })

const events = (page: Page) => page.evaluate(() => window.tab.events)
const role = (page: Page) => page.evaluate(() => window.tab.role())
const frames = (conn?: number) => tabs.server.log.filter((entry) => conn === undefined || entry.conn === conn).map((entry) => JSON.parse(String(entry.data)))
/** A request answered (the echo server sends it back) after everything the tab sent before it. */
const roundTrip = (page: Page) => page.evaluate(() => window.tab.socket.request({ type: 'sync' }))

describe('steadysocket/shared in Chromium', { timeout: 60000 }, () => {
  test('three tabs open one server connection: the first leads, every tab is open', async () => {
    const pages = await openTabs(3)
    await roundTrip(pages[2]!)

    expect([tabs.server.totalConnections, tabs.server.connections]).toEqual([1, 1])
    expect(await Promise.all(pages.map(role))).toEqual(['leader', 'follower', 'follower'])
    expect(await Promise.all(pages.map(events))).toEqual([['role:leader', 'open'], ['open'], ['open']])
  })

  for (const how of ['closed', 'crashed'] as const)
    test(`the leader tab ${how}: one new connection within 1 s, every key re-sent once, the follower's sends once`, async () => {
      const [a, b, c] = await openTabs(3)
      await b!.evaluate(() => window.tab.subscribe('x', { subscribe: { sub: 'x' }, unsubscribe: { unsub: 'x' } }))
      await c!.evaluate(() => window.tab.subscribe('x', { subscribe: { sub: 'x' }, unsubscribe: { unsub: 'x' } }))
      await c!.evaluate(() => window.tab.subscribe('y', { subscribe: { sub: 'y' } }))
      await roundTrip(b!)
      await roundTrip(c!)
      tabs.server.clearLog()

      const cdp = how === 'crashed' ? await tabs.context.newCDPSession(a!) : undefined
      const started = Date.now()
      // Page.crash is never answered: the renderer dies.
      if (cdp) void cdp.send('Page.crash').catch(() => {})
      else await a!.close()
      // Sent while the leader is gone or going: held by the tab until a leader confirms them.
      await c!.evaluate(() => {
        window.tab.socket.send({ n: 1 })
        window.tab.socket.send({ n: 2 })
      })
      await tabs.server.waitFor((s) => s.totalConnections === 2 && s.connections === 1, 5000)
      const took = Date.now() - started
      await tabs.server.waitFor((s) => s.log.filter((entry) => entry.conn === 2).length >= 4, 5000)
      await roundTrip(c!)

      expect(took).toBeLessThan(1000)
      expect(await role(b!)).toBe('leader')
      expect(frames(2).slice(0, 2)).toEqual([{ sub: 'x' }, { sub: 'y' }])
      expect(frames().filter((frame) => 'n' in frame)).toEqual([{ n: 1 }, { n: 2 }])
      expect(frames().filter((frame) => 'sub' in frame || 'unsub' in frame)).toEqual([{ sub: 'x' }, { sub: 'y' }])
      expect(await events(b!)).toEqual(['open', 'role:leader', 'close:1001:retry', 'open:reconnect'])
      expect(await events(c!)).toEqual(['open', 'close:1001:retry', 'open:reconnect'])
      expect(tabs.server.connections).toBe(1)
    })

  for (const count of [1, 2, 10])
    test(`${count} tab(s) holding one key, released in random order: one subscribe frame, one unsubscribe frame`, async () => {
      const pages = await openTabs(count)
      for (const page of pages) {
        await page.evaluate(() => window.tab.subscribe('k', { subscribe: { sub: 'k' }, unsubscribe: { unsub: 'k' } }))
        await roundTrip(page)
      }
      // A fixed permutation (tests use no Math.random): 7 is coprime with 1, 2 and 10.
      const order = pages.map((_, i) => (i * 7 + 3) % count)
      for (const i of order) {
        await pages[i]!.evaluate(() => window.tab.release('k'))
        await roundTrip(pages[i]!)
      }
      await roundTrip(pages[0]!)

      expect(frames().filter((frame) => frame.type !== 'sync')).toEqual([{ sub: 'k' }, { unsub: 'k' }])
      expect(tabs.server.totalConnections).toBe(1)
    })

  test("a follower's request gets its reply, and no other tab sees it", async () => {
    const [a, b, c] = await openTabs(3)
    const reply = await b!.evaluate(() => window.tab.socket.request({ type: 'question', n: 42 }))
    await roundTrip(a!)

    expect(reply).toEqual({ type: 'question', n: 42, id: expect.any(String) })
    expect(await Promise.all([a, b, c].map((page) => page!.evaluate(() => window.tab.messages)))).toEqual([[], [], []])
  })

  test('the CDN global has createSharedSocket: two tabs of the IIFE build share one connection', async () => {
    const pages: Page[] = []
    for (let i = 0; i < 2; i++) {
      const page = await tabs.page()
      await page.goto(`${launched.web.url}/iife.html`)
      await page.evaluate((url) => {
        const global = window as unknown as IifeWindow
        global.shared = global.SteadySocket.createSharedSocket(url, { name: 'e2e:iife' })
      }, tabs.server.url)
      await page.waitForFunction(() => (window as unknown as IifeWindow).shared.state.status === 'open', undefined, polling)
      pages.push(page)
    }

    expect(await Promise.all(pages.map((page) => page.evaluate(() => (window as unknown as IifeWindow).shared.role)))).toEqual(['leader', 'follower'])
    expect(tabs.server.totalConnections).toBe(1)
  })

  test('without Web Locks every tab runs its own socket and reports solo', async () => {
    await tabs.context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined }))
    const pages = await openTabs(2)

    expect(await Promise.all(pages.map(role))).toEqual(['solo', 'solo'])
    expect(tabs.server.totalConnections).toBe(2)
  })
})
