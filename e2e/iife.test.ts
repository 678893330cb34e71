import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { openPage, startBackend, type Backend } from './harness'
import { useChromium } from './use-chromium'

// `dist/steadysocket.iife.js` loaded by a plain `<script>` tag, as from a CDN: the page
// uses only the global `SteadySocket`.

const launched = useChromium()
let backend: Backend
let context: BrowserContext
let page: Page
let pageErrors: string[]

beforeAll(async () => {
  backend = await startBackend()
})

afterAll(async () => {
  await backend?.close()
})

beforeEach(async () => {
  backend.server.clearLog()
  ;({ context, page, errors: pageErrors } = await openPage(launched.browser, `${launched.web.url}/iife.html`))
})

afterEach(async () => {
  await context?.close()
  expect(pageErrors).toEqual([])
})

describe('the IIFE build in a <script> tag', () => {
  test('defines the global SteadySocket with every export of the ESM build', async () => {
    const global = await page.evaluate(() => Object.keys(window.SteadySocket).sort())
    // A string, so Vitest does not rewrite the browser's dynamic import().
    const esm = await page.evaluate<string[]>("import('/dist/steadysocket.js').then((m) => Object.keys(m).sort())")

    // Plus the entries a <script> user needs (DESIGN 1): the drop-in class and shared sockets.
    expect(global).toEqual([...esm, 'ReconnectingWebSocket', 'createSharedSocket'].sort())
    expect(global).toContain('createSocket')
  })

  test('exposes working policies and error classes on the global', async () => {
    const checks = await page.evaluate(() => {
      const { isFatalClose, backoffDelay, CloseCode, SteadySocketError, TimeoutError } = window.SteadySocket
      const close = (code: number) => ({ code, reason: '', wasClean: true })
      return {
        fatal1008: isFatalClose(close(1008)),
        fatal1001: isFatalClose(close(1001)),
        delay: backoffDelay(3, { initialDelay: 100, factor: 2, jitter: 'none' }),
        codes: [1008, 4000].map((code) => Object.values(CloseCode).includes(code as never)),
        subclass: TimeoutError.prototype instanceof SteadySocketError,
      }
    })

    expect(checks).toEqual({ fatal1008: true, fatal1001: false, delay: 400, codes: [true, true], subclass: true })
  })

  test('echoes JSON and binary frames through the global createSocket', async () => {
    await page.evaluate((url) => window.harness.open([url]), backend.server.url)
    await page.waitForFunction(() => window.harness.status() === 'open')
    await page.evaluate(() => {
      window.harness.send({ type: 'say', text: 'from a script tag' })
      window.harness.sendBytes([7, 8, 9])
    })
    await page.waitForFunction(() => window.harness.messages.length === 1 && window.harness.binaries.length === 1)

    expect(await page.evaluate(() => window.harness.messages)).toEqual([{ type: 'say', text: 'from a script tag' }])
    expect(await page.evaluate(() => window.harness.binaries)).toEqual([{ kind: '[object ArrayBuffer]', bytes: [7, 8, 9] }])
    expect(backend.server.log.map((entry) => entry.binary)).toEqual([false, true])
  })
})
