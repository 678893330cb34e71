import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.js'

/**
 * Flags that would hide what background tabs really do: Playwright's own launch adds them
 * (and focus emulation, which keeps every page "focused"), so these tests launch
 * Chromium themselves and never pass them.
 */
const HIDING = [
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
  '--disable-back-forward-cache',
]

export interface CdpChromium {
  browser: Browser
  /** The browser's default context: the only one where `noDefaults` leaves focus emulation off. */
  context: BrowserContext
  /** The `ws://127.0.0.1:PORT/devtools/browser/…` endpoint Chromium printed. */
  endpoint: string
  /** Every command-line argument Chromium got. */
  args: string[]
  /** Opens a page (a tab of the same window, so bringing another to the front hides it). */
  newPage(url: string): Promise<Page>
  /** Disconnects, ends the Chromium process (and its children) and removes the profile. */
  close(): Promise<void>
}

/**
 * Launches headless Chromium with a DevTools port Chromium picks itself (no race for a
 * free port), real background throttling (intensive wake-up throttling after
 * `graceSeconds` hidden instead of five minutes), and attaches Playwright over CDP
 * without its default overrides.
 */
export async function launchCdpChromium({ graceSeconds = 10 } = {}): Promise<CdpChromium> {
  const profile = mkdtempSync(join(tmpdir(), 'steadysocket-cdp-'))
  const args = [
    ...CHROMIUM_ARGS.filter((flag) => !HIDING.includes(flag)),
    '--headless',
    '--remote-debugging-address=127.0.0.1',
    '--remote-debugging-port=0',
    `--user-data-dir=${profile}`,
    `--enable-features=IntensiveWakeUpThrottling:grace_period_seconds/${graceSeconds}`,
    'about:blank',
  ]
  // Its own process group, so the renderers go with it if it has to be killed.
  const child = spawn(CHROMIUM_PATH, args, { detached: true, stdio: ['ignore', 'ignore', 'pipe'] })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const late = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL')
        } catch {
          // Already gone.
        }
      }, 5000)
      await exited
      clearTimeout(late)
    }
    // Helpers of the browser (its zygote, crash handler) can outlive it for a moment and
    // keep writing to the profile: end what is left of its process group, then retry.
    try {
      process.kill(-child.pid!, 'SIGKILL')
    } catch {
      // The group is gone already.
    }
    rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })
  }

  let endpoint: string
  try {
    endpoint = await new Promise<string>((resolve, reject) => {
      let stderr = ''
      const timer = setTimeout(() => reject(new Error(`cdp-chromium: no DevTools endpoint after 30 s; stderr:\n${stderr}`)), 30000)
      child.stderr!.setEncoding('utf8')
      child.stderr!.on('data', (chunk: string) => {
        stderr += chunk
        const match = /DevTools listening on (ws:\/\/\S+)/.exec(stderr)
        if (match) {
          clearTimeout(timer)
          resolve(match[1]!)
        }
      })
      child.once('error', (error) => {
        clearTimeout(timer)
        reject(new Error(`cdp-chromium: cannot start ${CHROMIUM_PATH}: ${error.message} — set CHROMIUM_PATH`))
      })
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`cdp-chromium: Chromium exited with ${code} before listening; stderr:\n${stderr}`))
      })
    })
  } catch (error) {
    await kill()
    throw error
  }
  // Keep reading so a chatty Chromium never blocks on a full pipe.
  child.stderr!.resume()

  let browser: Browser
  try {
    browser = await chromium.connectOverCDP(endpoint, { noDefaults: true, timeout: 30000 })
  } catch (error) {
    await kill()
    throw error
  }
  const context = browser.contexts()[0]!
  context.setDefaultTimeout(10000)
  return {
    browser,
    context,
    endpoint,
    args,
    async newPage(url) {
      const page = await context.newPage()
      await page.goto(url)
      return page
    },
    async close() {
      await browser.close().catch(() => {})
      await kill()
    },
  }
}
