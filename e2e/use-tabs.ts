import type { BrowserContext, Page } from 'playwright-core'
import { afterEach, beforeEach, expect } from 'vitest'
import { startServer, type TestServer } from '../test/server/index.js'
// `window.tab` (e2e/pages/shared.js) is typed there.
import type {} from './shared.test'
import type { useChromium } from './use-chromium'

/** Polled on a timer: the default (animation frames) never runs in a tab in the background. */
export const polling = { polling: 50 }

export interface Tabs {
  /** The test's echo server. */
  readonly server: TestServer
  /** The test's browser context: its pages are tabs of one origin. */
  readonly context: BrowserContext
  /** A new page of the context; an uncaught error in it fails the test. */
  page(): Promise<Page>
  /**
   * `count` tabs of `path` opened one after another, each started by `start` (given the
   * server's URL) and then open (`window.tab`, e2e/pages/shared.js): the first leads, and the
   * others queue for the leader's lock in that order (Web Locks grant in request order), so
   * the second takes over.
   */
  open(count: number, path: string, start: (page: Page, url: string) => Promise<unknown>): Promise<Page[]>
}

/**
 * Per test: an echo server and a browser context of `launched`'s Chromium whose pages are the
 * tabs of a `steadysocket/shared` test; closed after it, which fails if a page threw.
 * @param timeout Playwright's default for each wait: several pages start at once on a loaded machine, and every wait ends on its condition.
 */
export function useTabs(launched: ReturnType<typeof useChromium>, timeout: number): Tabs {
  let current: { server: TestServer; context: BrowserContext; errors: string[] }
  beforeEach(async () => {
    current = { server: await startServer({ mode: 'echo' }), context: await launched.browser.newContext(), errors: [] }
    current.context.setDefaultTimeout(timeout)
  })
  afterEach(async () => {
    await current.context.close()
    await current.server.close()
    expect(current.errors).toEqual([])
  })

  const page = async () => {
    const created = await current.context.newPage()
    created.on('pageerror', (error) => current.errors.push(String(error)))
    return created
  }

  return {
    get server() {
      return current.server
    },
    get context() {
      return current.context
    },
    page,
    async open(count, path, start) {
      const pages: Page[] = []
      for (let i = 0; i < count; i++) {
        const tab = await page()
        await tab.goto(`${launched.web.url}/${path}`)
        await start(tab, current.server.url)
        await tab.waitForFunction(() => window.tab.status() === 'open', undefined, polling)
        pages.push(tab)
      }
      return pages
    },
  }
}
