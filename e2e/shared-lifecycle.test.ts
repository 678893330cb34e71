import { existsSync, readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join, normalize, sep } from 'node:path'
import type { Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { startServer, type TestServer } from '../test/server/index.js'
import { launchCdpChromium, type CdpChromium } from './cdp-chromium'
import { dist, root } from './harness'

// The page lifecycle of `steadysocket/shared` where Playwright's own launch would hide it:
// a Chromium launched by us (back/forward cache on, real background throttling, no focus
// emulation), tabs of one window, so bringing one to the front hides the others.

const TAKEOVER = 2000

let chromium: CdpChromium
let web: { url: string; close(): Promise<void> }
let server: TestServer
let pages: Page[]
let errors: string[]

beforeAll(async () => {
  // Intensive throttling (one wake-up a minute) would silence a hidden leader on its own: keep it out of these tests.
  chromium = await launchCdpChromium({ graceSeconds: 600 })
  web = await startCacheableStatic()
})

afterAll(async () => {
  // Once more if the first removal of the profile races Chromium's last writes (ENOTEMPTY).
  await chromium?.close().catch(() => chromium.close())
  await web?.close()
})

/**
 * The pages and the build on 127.0.0.1, without the harness's `cache-control: no-store`:
 * Chromium keeps no page served with it (nor one that used a WebSocket) in the back/forward cache.
 */
async function startCacheableStatic() {
  const pages = join(root, 'e2e', 'pages')
  const http = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname
    const [base, relative] = path.startsWith('/dist/') ? [dist, path.slice(6)] : [pages, path.slice(1)]
    const file = normalize(join(base, relative))
    if (!file.startsWith(base + sep) || !existsSync(file)) return void res.writeHead(404).end()
    res.writeHead(200, { 'content-type': file.endsWith('.html') ? 'text/html; charset=utf-8' : 'text/javascript; charset=utf-8' }).end(readFileSync(file))
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => (http.closeAllConnections(), http.close(() => resolve()))),
  }
}

beforeEach(async () => {
  server = await startServer({ mode: 'echo' })
  pages = []
  errors = []
})

afterEach(async () => {
  for (const page of pages) await page.close().catch(() => {})
  await server?.close()
  expect(errors).toEqual([])
})

async function openTab() {
  const page = await chromium.newPage(`${web.url}/shared.html`)
  pages.push(page)
  page.on('pageerror', (error) => errors.push(String(error)))
  await page.waitForFunction(() => window.tab !== undefined, undefined, { polling: 50 })
  await page.evaluate(([url, takeoverAfter]) => window.tab.open(url, { takeoverAfter }), [server.url, TAKEOVER] as const)
  await page.waitForFunction(() => window.tab.status() === 'open', undefined, { polling: 50 })
  return page
}

const role = (page: Page) => page.evaluate(() => window.tab.role())
const untilRole = (page: Page, expected: string, timeout = 10000) =>
  page.waitForFunction((r) => window.tab.role() === r, expected, { polling: 50, timeout })

describe('steadysocket/shared through the page lifecycle (Chromium over CDP)', { timeout: 60000 }, () => {
  test('the leader navigates away: a follower takes over; back from the cache, the page rejoins as a follower', async () => {
    const a = await openTab()
    const b = await openTab()
    expect([await role(a), await role(b)]).toEqual(['leader', 'follower'])

    await a.goto(`${web.url}/esm.html`)
    await untilRole(b, 'leader')
    await server.waitFor((s) => s.totalConnections === 2 && s.connections === 1)
    // A page restored from the cache fires no load event: wait for the commit only.
    await a.goBack({ waitUntil: 'commit' })
    await a.waitForFunction(() => window.tab?.status() === 'open', undefined, { polling: 50 })

    expect(await a.evaluate(() => window.tab.events.includes('pageshow:persisted'))).toBe(true)
    expect(await role(a)).toBe('follower')
    expect(await a.evaluate(() => window.tab.socket.request({ back: true }))).toEqual({ back: true, id: expect.any(String) })
    expect([server.totalConnections, server.connections]).toEqual([2, 1])
  })

  test('a frozen leader: the visible follower takes over within takeoverAfter + 2 s, the old leader steps down on resume, never more than two connections', async () => {
    const a = await openTab()
    const b = await openTab()
    await b.bringToFront()
    let most = 0
    const counting = server
      .waitFor((s) => {
        most = Math.max(most, s.connections)
        return false
      }, 50000)
      .catch(() => {})
    const cdp = await a.context().newCDPSession(a)

    await cdp.send('Page.setWebLifecycleState', { state: 'frozen' })
    const frozenAt = Date.now()
    await untilRole(b, 'leader', TAKEOVER + 5000)
    const took = Date.now() - frozenAt
    await server.waitFor((s) => s.totalConnections === 2)
    await cdp.send('Page.setWebLifecycleState', { state: 'active' })
    await untilRole(a, 'follower')
    await server.waitFor((s) => s.connections === 1)
    void counting

    expect(took).toBeLessThan(TAKEOVER + 2000)
    expect(most).toBeLessThanOrEqual(2)
    expect(await a.evaluate(() => window.tab.events.slice(0, 2))).toEqual(['role:leader', 'open'])
    expect(await a.evaluate(() => window.tab.events.includes('role:follower'))).toBe(true)
    expect(await b.evaluate(() => window.tab.socket.request({ after: true }))).toEqual({ after: true, id: expect.any(String) })
  })
})
