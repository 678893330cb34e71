import type { Browser } from 'playwright-core'
import { afterAll, beforeAll } from 'vitest'
import { launchChromium, startStatic, type StaticServer } from './harness'

/**
 * The test file's Chromium and static server: launched before its tests, closed after them.
 * Read `browser` and `web` inside hooks and tests, once they exist.
 */
export function useChromium(): { readonly browser: Browser; readonly web: StaticServer } {
  const chromium = {} as { browser: Browser; web: StaticServer }
  beforeAll(async () => {
    chromium.browser = await launchChromium()
    chromium.web = await startStatic()
  })
  afterAll(async () => {
    await chromium.browser?.close()
    await chromium.web?.close()
  })
  return chromium
}
