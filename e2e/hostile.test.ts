import type { BrowserContext, Page } from 'playwright-core'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { startHostile, type HostileServer } from '../test/server/index.js'
import { openPage } from './harness'
import { useChromium } from './use-chromium'

// What only a browser shows: how Chromium itself fails a connection on bad input from a
// server, and what it lets the page see of a refused upgrade.

const launched = useChromium()
let context: BrowserContext
let page: Page
let pageErrors: string[]
const servers: HostileServer[] = []

beforeEach(async () => {
  ;({ context, page, errors: pageErrors } = await openPage(launched.browser, `${launched.web.url}/esm.html`))
})

afterEach(async () => {
  await context?.close()
  for (const server of servers.splice(0)) await server.close()
  expect(pageErrors).toEqual([])
})

async function hostile(handlers: Parameters<typeof startHostile>[0]) {
  const server = await startHostile(handlers)
  servers.push(server)
  return server
}

const retry = { initialDelay: 100, maxDelay: 300, jitter: 'none' }

describe('hostile servers in Chromium', () => {
  test('a text frame of invalid UTF-8 makes Chromium fail the connection, and the socket reconnects instead of wedging', async () => {
    const server = await hostile({
      connection(ws, n) {
        if (n <= 2) ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false })
        else ws.send('{"fine":true}')
      },
    })
    await page.evaluate(([url, options]) => window.harness.open([url], options), [server.url, { retry }] as const)
    await page.waitForFunction(() => window.harness.messages.length === 1)
    const { events, messages } = await page.evaluate(() => ({ events: window.harness.events, messages: window.harness.messages }))
    expect(messages).toEqual([{ fine: true }])
    expect(events.filter((event) => event.startsWith('open'))).toHaveLength(3)
    // Chromium reports its own failure as 1006, which reconnects by default.
    expect(events.filter((event) => event.startsWith('close:'))).toEqual(['close:1006::retry', 'close:1006::retry'])
  })

  test('an upgrade answered with HTTP 401 is a ConnectionError with no status to read, retried with backoff', async () => {
    const server = await hostile({
      upgrade(socket) {
        socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
        return true
      },
    })
    await page.evaluate(([url, options]) => window.harness.open([url], options), [server.url, { retry }] as const)
    await page.waitForFunction(() => window.harness.events.filter((event) => event.startsWith('reconnecting:')).length >= 3)
    const events = await page.evaluate(() => window.harness.events)
    expect(events.slice(0, 4)).toEqual(['error:ConnectionError', 'reconnecting:1', 'error:ConnectionError', 'reconnecting:2'])
    expect(server.upgrades).toBeGreaterThanOrEqual(3)
  })
})
