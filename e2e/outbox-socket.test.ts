import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { startServer, type TestServer } from '../test/server/index.js'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.js'
import { useChromium } from './use-chromium'
// `window.outbox` (e2e/pages/outbox.js) is typed there.
import type {} from './outbox-store.test'

// A socket with `queue: { store: indexedDBStore({ name }) }` in Chromium, built files only,
// against a real echo server on 127.0.0.1 (its echo of a delivery is the acknowledgement).

const launched = useChromium()
let server: TestServer
let context: BrowserContext
let pageErrors: string[]
let name: string
let names = 0

beforeEach(async () => {
  server = await startServer({ mode: 'echo' })
  context = await launched.browser.newContext()
  context.setDefaultTimeout(10000)
  pageErrors = []
  name = `socket-user-${++names}`
})

afterEach(async () => {
  await context?.close()
  await server?.close()
  expect(pageErrors).toEqual([])
})

async function tab(into = context, origin = launched.web.url): Promise<Page> {
  const page = await into.newPage()
  page.on('pageerror', (error) => pageErrors.push(String(error)))
  await page.goto(`${origin}/outbox.html`)
  await page.waitForFunction(() => window.outbox !== undefined)
  return page
}

/** Opens the page's socket with a durable queue named `name`. */
const connect = (page: Page) =>
  page.evaluate(
    ({ url, n }) =>
      window.harness.open([url], { retry: { initialDelay: 100, maxDelay: 300 }, queue: { store: window.outbox.open(n) } }),
    { url: server.url, n: name },
  )

const send = (page: Page, messages: unknown[]) =>
  page.evaluate((list) => list.map((message) => window.harness.send(message)), messages)

/** Waits until the store's database holds exactly `count` frames. */
const untilStored = (page: Page, count: number) =>
  page.evaluate(({ n, count }) => window.outbox.untilRows(n, count), { n: name, count })

/** Waits until `count` pages hold a tab lock of this store (a closed page releases it a moment after `close()`). */
const untilTabs = (page: Page, count: number) =>
  page.evaluate(({ n, count }) => window.outbox.untilTabs(n, count), { n: name, count })

const frames = () => server.log.map((entry) => ({ conn: entry.conn, message: JSON.parse(String(entry.data)) as unknown }))

/**
 * The e2e pages from `origin` without its `Cache-Control: no-store`, which keeps a page that
 * used a WebSocket out of the back/forward cache (Playwright's `route` would break WebSockets).
 */
async function startCacheable(origin: string): Promise<{ url: string; close(): Promise<void> }> {
  const http = createServer((req, res) => {
    fetch(`${origin}${req.url}`)
      .then(async (response) => {
        const type = response.headers.get('content-type') ?? 'text/plain'
        res.writeHead(response.status, { 'content-type': type }).end(Buffer.from(await response.arrayBuffer()))
      })
      .catch(() => res.writeHead(502).end())
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => (http.close(() => resolve()), http.closeAllConnections())),
  }
}

async function crash(page: Page): Promise<void> {
  const cdp = await context.newCDPSession(page)
  const crashed = new Promise((resolve) => page.once('crash', resolve))
  // The command never answers: the renderer it would answer from is gone.
  void cdp.send('Page.crash').catch(() => undefined)
  await crashed
}

describe('a socket with a durable outbox in Chromium', () => {
  test('sends what a reloaded page queued once, in order, before what the new page queued', async () => {
    server.refuse(true)
    const page = await tab()
    await connect(page)
    expect(await send(page, Array.from({ length: 10 }, (_, n) => ({ n })))).toEqual(Array.from({ length: 10 }, () => false))
    await untilStored(page, 10)
    await page.reload()
    await page.waitForFunction(() => window.outbox !== undefined)
    await connect(page)
    await send(page, [{ n: 'after reload' }])

    server.refuse(false)
    await page.waitForFunction(() => window.harness.status() === 'open')
    // A marker written after the flush: a duplicate of a stored frame would arrive before it.
    await send(page, [{ n: 'end' }])
    await server.waitFor(() => server.log.some((entry) => entry.data === '{"n":"end"}'))

    const expected = [...Array.from({ length: 10 }, (_, n) => n), 'after reload', 'end']
    expect(frames()).toEqual(expected.map((n) => ({ conn: 1, message: { n } })))
    await untilStored(page, 0)
  })

  test('re-sends a delivery with the same id from a new page after the page crashed before the ack', async () => {
    server.silent(true)
    const first = await tab()
    await connect(first)
    await first.waitForFunction(() => window.harness.status() === 'open')
    void first.evaluate(() => void window.outbox.deliver({ type: 'chat.post', text: 'must arrive' }))
    await server.waitForLog(1)
    await untilStored(first, 1)
    await crash(first)
    await server.waitFor(() => server.connections === 0)

    server.silent(false)
    const second = await tab()
    await connect(second)
    await server.waitForLog(2)
    await untilStored(second, 0)

    const [written, resent] = frames()
    expect(written).toEqual({ conn: 1, message: { type: 'chat.post', text: 'must arrive', id: expect.any(String) } })
    expect(resent).toEqual({ conn: 2, message: written!.message })
    expect(frames()).toHaveLength(2)
  })

  test('sends every frame of tabs sharing a store once: each its own, a closed tab\'s by the first to open', async () => {
    server.refuse(true)
    const a = await tab()
    const b = await tab()
    await connect(a)
    await connect(b)
    await send(a, ['a0', 'a1', 'a2', 'a3', 'a4'].map((n) => ({ n })))
    await send(b, ['b0', 'b1', 'b2', 'b3', 'b4'].map((n) => ({ n })))
    await untilStored(b, 10)
    await a.close()
    const c = await tab()
    await untilTabs(c, 1)
    await connect(c)
    await send(c, [{ n: 'c0' }])

    server.refuse(false)
    await b.waitForFunction(() => window.harness.status() === 'open')
    await c.waitForFunction(() => window.harness.status() === 'open')
    await send(b, [{ n: 'end b' }])
    await send(c, [{ n: 'end c' }])
    await server.waitFor(() => ['end b', 'end c'].every((end) => server.log.some((entry) => entry.data === `{"n":"${end}"}`)))

    const byConnection = new Map<number, string[]>()
    for (const { conn, message } of frames()) byConnection.set(conn, [...(byConnection.get(conn) ?? []), (message as { n: string }).n])
    const lists = [...byConnection.values()]
    const closed = ['a0', 'a1', 'a2', 'a3', 'a4']
    // Whichever tab opens first after the close takes the closed tab's frames and sends them before its own.
    expect(lists.filter((list) => list.includes('a0')).map((list) => list.slice(0, 5))).toEqual([closed])
    expect(lists.map((list) => list.filter((n) => !closed.includes(n))).sort()).toEqual([
      ['b0', 'b1', 'b2', 'b3', 'b4', 'end b'],
      ['c0', 'end c'],
    ])
    expect(lists.flat()).toHaveLength(13)
    await untilStored(c, 0)
  })

  test('goes on in memory with one StorageError when IndexedDB cannot open', async () => {
    await context.addInitScript(() => {
      IDBFactory.prototype.open = () => {
        throw new DOMException('The user denied permission to access the database.', 'UnknownError')
      }
    })
    server.refuse(true)
    const page = await tab()
    await connect(page)
    await send(page, [{ n: 1 }, { n: 2 }, { n: 3 }])
    await page.waitForFunction(() => window.harness.events.includes('error:StorageError'))

    server.refuse(false)
    await server.waitForLog(3)
    await page.waitForFunction(() => window.harness.status() === 'open')

    expect(frames().map((frame) => frame.message)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }])
    expect(await page.evaluate(() => window.harness.events.filter((event) => event === 'error:StorageError'))).toEqual([
      'error:StorageError',
    ])
  })

  test('rejects a delivery the full store cannot keep with a QueueOverflowError caused by the quota', async () => {
    server.refuse(true)
    const page = await tab()
    const cdp = await context.newCDPSession(page)
    // Chromium reads the quota when the database opens, so the override comes first.
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: launched.web.url, quotaSize: 1_000_000 })
    try {
      await connect(page)
      await page.evaluate(() => void window.outbox.deliver({ text: 'small' }))
      await untilStored(page, 1)
      await page.evaluate(() => {
        // Random text: Chromium compresses what it stores, so repeated text would fit.
        const random = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(30_000))))
        void window.outbox.deliver({ text: Array.from({ length: 60 }, random).join('') })
      })
      await page.waitForFunction(() => window.outbox.outcomes[1] !== 'pending')
      // Chromium also refused writes queued behind the refused one, so the next one waits for it.
      await page.evaluate(() => void window.outbox.deliver({ text: 'after' }))
      await untilStored(page, 2)
      const cause = await page.evaluate(() => {
        const error = window.outbox.errors[0] as Error & { cause?: Error; dropped?: { text: string } }
        return { name: error.name, cause: error.cause?.name, dropped: error.dropped?.text.length }
      })
      expect(cause).toEqual({ name: 'QueueOverflowError', cause: 'QuotaExceededError', dropped: expect.any(Number) })
      expect(await page.evaluate(() => window.harness.events.filter((event) => event.startsWith('error:Q')))).toEqual([
        'error:QueueOverflowError',
      ])
    } finally {
      await cdp.send('Storage.overrideQuotaForOrigin', { origin: launched.web.url })
    }

    server.refuse(false)
    await page.waitForFunction(() => window.outbox.outcomes.every((outcome) => outcome !== 'pending'))
    expect(await page.evaluate(() => window.outbox.outcomes)).toEqual(['ok', 'rejected:QueueOverflowError', 'ok'])
    expect(frames().map((frame) => (frame.message as { text: string }).text)).toEqual(['small', 'after'])
  })
})

describe('a socket with a durable outbox and the back/forward cache', () => {
  // Playwright turns the back/forward cache off; this browser keeps it on.
  let cachingBrowser: Browser
  let caching: BrowserContext
  let cacheable: { url: string; close(): Promise<void> }

  beforeAll(async () => {
    cacheable = await startCacheable(launched.web.url)
    cachingBrowser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: CHROMIUM_ARGS,
      ignoreDefaultArgs: ['--disable-back-forward-cache'],
      timeout: 30000,
    })
  })

  afterAll(async () => {
    await cachingBrowser?.close()
    await cacheable?.close()
  })

  beforeEach(async () => {
    caching = await cachingBrowser.newContext()
    caching.setDefaultTimeout(10000)
  })

  afterEach(async () => {
    await caching?.close()
  })

  /** Queues `a0`…`a2` on a page, then navigates away so that page enters the back/forward cache. */
  async function queueAndLeave(): Promise<Page> {
    server.refuse(true)
    const page = await tab(caching, cacheable.url)
    await page.evaluate(() => addEventListener('pageshow', (event) => Object.assign(window, { restored: event.persisted })))
    await connect(page)
    await send(page, ['a0', 'a1', 'a2'].map((n) => ({ n })))
    await untilStored(page, 3)
    await page.goto(`${cacheable.url}/esm.html`)
    return page
  }

  const untilOpen = (page: Page) => page.waitForFunction(() => window.harness.status() === 'open')

  test('a page restored from the cache sends its own frames once', async () => {
    const page = await queueAndLeave()
    server.refuse(false)
    await page.goBack({ waitUntil: 'commit' })
    await untilOpen(page)
    await send(page, [{ n: 'end' }])
    await server.waitFor(() => server.log.some((entry) => entry.data === '{"n":"end"}'))

    expect(await page.evaluate(() => (window as unknown as { restored: boolean }).restored)).toBe(true)
    expect(frames().map(({ message }) => (message as { n: string }).n)).toEqual(['a0', 'a1', 'a2', 'end'])
  })

  test('a cached page and another page using its store send its frames once between them', async () => {
    const page = await queueAndLeave()
    const other = await tab(caching, cacheable.url)
    await connect(other)
    server.refuse(false)
    await untilOpen(other)
    await send(other, [{ n: 'end other' }])
    await server.waitFor(() => server.log.some((entry) => entry.data === '{"n":"end other"}'))
    // Chromium may restore the page or evict it (a cached page whose Web Lock is contended is
    // evicted) and load it anew: either way its frames go out once, from whichever page owns them.
    await page.goBack({ waitUntil: 'commit' })
    await page.waitForFunction(() => window.outbox !== undefined)
    if (!(await page.evaluate(() => window.harness.socket !== undefined))) await connect(page)
    await untilOpen(page)
    await send(page, [{ n: 'end back' }])
    await server.waitFor(() => server.log.some((entry) => entry.data === '{"n":"end back"}'))

    const sent = frames().map(({ message }) => (message as { n: string }).n)
    expect(sent.filter((n) => n.startsWith('a'))).toEqual(['a0', 'a1', 'a2'])
    expect([...sent].sort()).toEqual(['a0', 'a1', 'a2', 'end back', 'end other'])
    await untilStored(page, 0)
  })
})
