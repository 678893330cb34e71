import type { BrowserContext, Page } from 'playwright-core'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { useChromium } from './use-chromium'

// The built `steadysocket/outbox` (dist/outbox.js, loaded through an import map with the
// core) driven directly from pages in Chromium: what it keeps across reloads, crashes and
// tabs, and how it fails.

/** `window.outbox` from e2e/pages/outbox.js. */
export interface OutboxPage {
  store: import('steadysocket').OutboxStore | undefined
  errors: unknown[]
  indexedDBStore: typeof import('steadysocket/outbox').indexedDBStore
  open(name: string): import('steadysocket').OutboxStore
  put(record: import('steadysocket').OutboxRecord): Promise<unknown>
  putBytes(record: Omit<import('steadysocket').OutboxRecord, 'data'>, bytes: number[], range?: [number, number]): Promise<unknown>
  delete(key: string): Promise<unknown>
  adopt(): Promise<unknown>
  rows(name: string): Promise<Array<Record<string, unknown>>>
  untilRows(name: string, count: number): Promise<void>
  untilTabs(name: string, count: number): Promise<void>
  /** `harness.socket.deliver(message)`, its outcome recorded in `outcomes`. */
  deliver(message: unknown): Promise<unknown>
  outcomes: string[]
}

declare global {
  interface Window {
    outbox: OutboxPage
  }
}

const launched = useChromium()
let context: BrowserContext
let pageErrors: string[]
let name: string
let names = 0

beforeEach(async () => {
  context = await launched.browser.newContext()
  context.setDefaultTimeout(10000)
  pageErrors = []
  name = `user-${++names}`
})

afterEach(async () => {
  await context?.close()
  expect(pageErrors).toEqual([])
})

/** A new tab on the outbox page whose store (if `store`) is `indexedDBStore({ name })`. */
async function tab({ store = true } = {}): Promise<Page> {
  const page = await context.newPage()
  page.on('pageerror', (error) => pageErrors.push(String(error)))
  await page.goto(`${launched.web.url}/outbox.html`)
  await page.waitForFunction(() => window.outbox !== undefined)
  if (store) await page.evaluate((n) => void window.outbox.open(n), name)
  return page
}

async function reload(page: Page, { store = true } = {}): Promise<void> {
  await page.reload()
  await page.waitForFunction(() => window.outbox !== undefined)
  if (store) await page.evaluate((n) => void window.outbox.open(n), name)
}

const put = (page: Page, key: string, data: string, extra: { id?: string; expires?: number } = {}) =>
  page.evaluate((record) => window.outbox.put(record), { key, data, at: 1000 + Number(key), ...extra })
const adopt = (page: Page) => page.evaluate(() => window.outbox.adopt())
const rows = (page: Page) => page.evaluate((n) => window.outbox.rows(n), name)
/** Waits until `count` pages hold a tab lock of this store: a closed page releases its lock a moment after `close()` resolves. */
const untilTabs = (page: Page, count: number) =>
  page.evaluate(({ n, count }) => window.outbox.untilTabs(n, count), { n: name, count })
const texts = (records: unknown) => (records as Array<{ data: unknown }>).map((record) => record.data)

describe('indexedDBStore in Chromium', () => {
  test('hands the frames of a reloaded page to the next page, in order, with their fields and binary as bytes', async () => {
    const page = await tab()
    expect(await put(page, '1', 'first', { id: 'delivery-1', expires: Date.now() + 60_000 })).toBe('ok')
    expect(await page.evaluate(() => window.outbox.putBytes({ key: '2', at: 1002 }, [9, 0, 1, 2, 255, 9], [1, 5]))).toBe('ok')
    expect(await put(page, '10', 'third')).toBe('ok')
    await reload(page)

    const records = (await adopt(page)) as Array<Record<string, unknown>>
    expect(records.map(({ key: _key, ...rest }) => rest)).toEqual([
      { data: 'first', at: 1001, id: 'delivery-1', expires: expect.any(Number) },
      { data: { bytes: [0, 1, 2, 255] }, at: 1002 },
      { data: 'third', at: 1010 },
    ])
    // Adopted keys are the store's own and unique; the core deletes by them.
    expect(new Set(records.map((record) => record.key)).size).toBe(3)
    expect(await adopt(page)).toEqual([])
  })

  test('gives back binary data as a Uint8Array', async () => {
    const page = await tab()
    await page.evaluate(() => window.outbox.putBytes({ key: '1', at: 1 }, [1, 2, 3]))
    await reload(page)

    const kind = await page.evaluate(async () => {
      const [record] = await window.outbox.store!.adopt()
      return Object.prototype.toString.call(record?.data)
    })
    expect(kind).toBe('[object Uint8Array]')
  })

  test('forgets deleted frames, including adopted ones deleted by the key adopt() gave', async () => {
    const page = await tab()
    for (const key of ['1', '2', '3']) await put(page, key, `frame ${key}`)
    expect(await page.evaluate(() => window.outbox.delete('2'))).toBe('ok')
    await reload(page)

    const records = (await adopt(page)) as Array<{ key: string; data: string }>
    expect(texts(records)).toEqual(['frame 1', 'frame 3'])
    expect(await page.evaluate((key) => window.outbox.delete(key), records[0]!.key)).toBe('ok')
    await reload(page)

    expect(texts(await adopt(page))).toEqual(['frame 3'])
  })

  test('keeps the frames of a crashed page for the next page', async () => {
    const page = await tab()
    await put(page, '1', 'before the crash', { id: 'delivery-1' })
    const cdp = await context.newCDPSession(page)
    const crashed = new Promise((resolve) => page.once('crash', resolve))
    // The command never answers: the renderer it would answer from is gone.
    void cdp.send('Page.crash').catch(() => undefined)
    await crashed

    const next = await tab()
    expect(await adopt(next)).toEqual([{ key: expect.any(String), data: 'before the crash', at: 1001, id: 'delivery-1' }])
  })

  test('drops frames whose wall-clock expiry has passed when they are adopted', async () => {
    const page = await tab()
    await put(page, '1', 'expired', { expires: Date.now() - 1 })
    await put(page, '2', 'alive', { expires: Date.now() + 60_000 })
    await reload(page)

    expect(texts(await adopt(page))).toEqual(['alive'])
    expect(texts(await rows(page))).toEqual(['alive'])
  })

  test('never adopts the frames of a tab that is still open', async () => {
    const first = await tab()
    await put(first, '1', 'mine')
    const second = await tab()

    expect(await adopt(second)).toEqual([])
    expect(texts(await rows(second))).toEqual(['mine'])
  })

  test('gives the frames of a closed tab to exactly one of the tabs that adopt at once', async () => {
    const closing = await tab()
    for (const key of ['1', '2', '3', '4', '5']) await put(closing, key, `frame ${key}`)
    const others = await Promise.all([tab(), tab(), tab()])
    await closing.close()
    // The others hold no lock yet: a store takes its lock on first use.
    await untilTabs(others[0]!, 0)

    const adopted = await Promise.all(others.map((page) => adopt(page)))
    const counts = adopted.map((records) => (records as unknown[]).length).sort()
    expect(counts).toEqual([0, 0, 5])
    expect(texts(adopted.find((records) => (records as unknown[]).length === 5))).toEqual([
      'frame 1',
      'frame 2',
      'frame 3',
      'frame 4',
      'frame 5',
    ])
  })

  test('keeps adopted frames before the adopting page\'s own through a second adoption', async () => {
    const a = await tab()
    await put(a, '1', 'a1')
    await put(a, '2', 'a2')
    const b = await tab()
    // b queued its own frames before it adopted a's (a send before the socket opened).
    await put(b, '1', 'b1')
    await put(b, '9', 'b9')
    await put(b, '10', 'b10')
    await a.close()
    await untilTabs(b, 1)
    expect(texts(await adopt(b))).toEqual(['a1', 'a2'])
    await put(b, '11', 'b11')
    await b.close()

    const c = await tab()
    await untilTabs(c, 0)
    expect(texts(await adopt(c))).toEqual(['a1', 'a2', 'b1', 'b9', 'b10', 'b11'])
  })

  test('keeps the frames of another user (another name) apart', async () => {
    const page = await tab()
    await put(page, '1', 'for user 1')
    await page.close()
    const next = await tab({ store: false })
    await untilTabs(next, 0)
    const user = name
    name = `${user}-other`
    await next.evaluate((n) => void window.outbox.open(n), name)
    expect(await adopt(next)).toEqual([])

    await next.evaluate((n) => void window.outbox.open(n), user)
    expect(texts(await adopt(next))).toEqual(['for user 1'])
  })

  test('without Web Locks (an insecure origin), still hands a reloaded page\'s frames to the next page', async () => {
    await context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined }))
    const page = await tab()
    expect(await page.evaluate(() => navigator.locks)).toBeUndefined()
    await put(page, '1', 'one')
    await put(page, '2', 'two')
    await reload(page)

    expect(texts(await adopt(page))).toEqual(['one', 'two'])
    expect(await adopt(page)).toEqual([])
  })

  test('rejects the first put or adopt() with one StorageError when IndexedDB cannot open, then works in memory', async () => {
    await context.addInitScript(() => {
      IDBFactory.prototype.open = () => {
        throw new DOMException('The user denied permission to access the database.', 'UnknownError')
      }
    })
    const page = await tab()
    const results = await page.evaluate(async () => [
      await window.outbox.delete('0'),
      await window.outbox.put({ key: '1', data: 'one', at: 1 }),
      await window.outbox.put({ key: '2', data: 'two', at: 2 }),
      await window.outbox.adopt(),
      await window.outbox.delete('1'),
    ])
    // delete() never rejects (the core does not wait for it): the next put or adopt() reports.
    expect(results).toEqual(['ok', 'rejected:StorageError', 'ok', [], 'ok'])

    const error = await page.evaluate(() => {
      const [e] = window.outbox.errors as Error[]
      return { instance: e instanceof window.harness.lib.StorageError, message: e?.message, cause: (e?.cause as Error)?.name }
    })
    expect(error).toEqual({
      instance: true,
      message: expect.stringMatching(/^outbox: IndexedDB failed \(The user denied permission.*\) — frames are kept in memory only/),
      cause: 'UnknownError',
    })
  })

  test('reports a failing adopt() as the one StorageError when it comes first', async () => {
    await context.addInitScript(() => {
      IDBFactory.prototype.open = function () {
        const request = {} as IDBOpenDBRequest
        setTimeout(() => {
          Object.defineProperty(request, 'error', { value: new DOMException('Internal error opening backing store', 'UnknownError') })
          request.onerror?.call(request, new Event('error'))
        })
        return request
      }
    })
    const page = await tab()
    const results = await page.evaluate(async () => [
      await window.outbox.adopt(),
      await window.outbox.put({ key: '1', data: 'one', at: 1 }),
      await window.outbox.adopt(),
    ])
    expect(results).toEqual(['rejected:StorageError', 'ok', []])
  })

  test('steps aside for an upgrade of its database by a newer version and goes on in memory', async () => {
    const page = await tab()
    expect(await put(page, '1', 'before the upgrade')).toBe('ok')
    const upgraded = await page.evaluate(
      (n) =>
        new Promise<number>((resolve, reject) => {
          const request = indexedDB.open(`steadysocket:${n}`, 2)
          request.onsuccess = () => {
            resolve(request.result.version)
            request.result.close()
          }
          request.onerror = () => reject(request.error)
          request.onblocked = () => reject(new Error('blocked'))
        }),
      name,
    )
    expect(upgraded).toBe(2)

    expect(await put(page, '2', 'after')).toBe('rejected:StorageError')
    expect(await put(page, '3', 'after')).toBe('ok')
  })

  test('rejects a put that exceeds the quota with the QuotaExceededError and keeps the others', async () => {
    const page = await tab({ store: false })
    const cdp = await context.newCDPSession(page)
    // Chromium reads the quota when the database opens, so the override comes first.
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: launched.web.url, quotaSize: 1_000_000 })
    try {
      await page.evaluate((n) => void window.outbox.open(n), name)
      expect(await put(page, '1', 'small')).toBe('ok')
      // Random bytes: Chromium compresses what it stores, so repeated text would fit.
      const big = await page.evaluate(() => {
        const bytes = new Uint8Array(3_000_000)
        for (let i = 0; i < bytes.length; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536))
        return window.outbox.put({ key: '2', data: bytes, at: 2 })
      })
      expect(big).toBe('rejected:QuotaExceededError')
      expect(await put(page, '3', 'still stored')).toBe('ok')
    } finally {
      await cdp.send('Storage.overrideQuotaForOrigin', { origin: launched.web.url })
    }
    await reload(page)

    expect(texts(await adopt(page))).toEqual(['small', 'still stored'])
  })

  test('asks for a name, and says what to use', async () => {
    const page = await tab({ store: false })
    const message = await page.evaluate(() => {
      try {
        window.outbox.indexedDBStore({ name: '' })
        return 'no error'
      } catch (error) {
        return `${(error as Error).name}: ${(error as Error).message}`
      }
    })
    expect(message).toBe(`TypeError: indexedDBStore: name must be a non-empty string, got "" — use one per user, e.g. 'chat:' + userId`)
  })

  test('touches neither IndexedDB nor Web Locks until the store is first used', async () => {
    await context.addInitScript(() => {
      const touched: string[] = []
      Object.assign(window, { touched })
      const open = IDBFactory.prototype.open
      IDBFactory.prototype.open = function (this: IDBFactory, ...args: [string, number?]) {
        touched.push('indexedDB.open')
        return open.apply(this, args)
      }
      const request = LockManager.prototype.request as (...args: unknown[]) => Promise<unknown>
      LockManager.prototype.request = function (this: LockManager, ...args: unknown[]) {
        touched.push('locks.request')
        return request.apply(this, args)
      } as LockManager['request']
    })
    const page = await tab({ store: false })
    const touched = () => page.evaluate(() => (window as unknown as { touched: string[] }).touched)
    await page.evaluate((n) => void window.outbox.open(n), name)
    expect(await touched()).toEqual([])

    await put(page, '1', 'x')
    expect(await touched()).toEqual(['locks.request', 'indexedDB.open'])
  })
})
