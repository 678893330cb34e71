// @ts-check
// The soak's Chromium page: Debian's Chromium (the e2e flags of e2e/chromium.js) on
// bench/page/soak.html, which runs soak clients with the built dist/steadysocket.js.
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../e2e/chromium.js'
import { root } from './artifacts.mjs'
import { serveFiles } from './serve-files.mjs'
import { remoteClients } from './soak-clients.mjs'

/** URL path → file: all the page loads. */
const FILES = {
  '/': join(root, 'bench/page/soak.html'),
  '/soak.js': join(root, 'bench/page/soak.js'),
  '/steadysocket.js': join(root, 'dist/steadysocket.js'),
  '/lib/chaos.mjs': join(root, 'bench/lib/chaos.mjs'),
  '/lib/soak-clients.mjs': join(root, 'bench/lib/soak-clients.mjs'),
  '/lib/stats.mjs': join(root, 'bench/lib/stats.mjs'),
}

/**
 * Serves the page on 127.0.0.1, launches Chromium and opens the page's clients
 * `first` to `first + count - 1` on `url` (they stream once `start()` is called).
 * @param {{ url: string, first: number, count: number, seed: number, every: number }} options
 */
export async function openSoakPage(options) {
  const served = await serveFiles(FILES)
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 30_000 })
  const close = async () => {
    await browser.close()
    await served.close()
  }
  try {
    const page = await browser.newPage()
    page.setDefaultTimeout(60_000)
    /** @type {string[]} uncaught errors of the page */
    const errors = []
    page.on('pageerror', (error) => errors.push(error.message))
    await page.goto(served.url)
    await page.waitForFunction(() => 'soak' in window, null, { timeout: 10_000 })
    const cdp = await page.context().newCDPSession(page)
    /** `window.soak[name](...args)` in the page (bench/page/soak.js), awaited. */
    const call = (/** @type {string} */ name, /** @type {unknown[]} */ ...args) =>
      page.evaluate(([n, a]) => /** @type {any} */ (window).soak[n](...a), /** @type {const} */ ([name, args]))
    const clients = remoteClients(call)
    await clients.open(options)
    return {
      ...clients,
      chromium: browser.version(),
      errors,
      /** The page's JS heap in use after a full garbage collection, in bytes. */
      async heap() {
        await cdp.send('HeapProfiler.collectGarbage')
        return (await cdp.send('Runtime.getHeapUsage')).usedSize
      },
      close,
    }
  } catch (error) {
    await close()
    throw error
  }
}
