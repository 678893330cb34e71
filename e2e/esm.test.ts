import type { BrowserContext, Page } from 'playwright-core'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { openPage, startBackend, type Backend } from './harness'
import { useChromium } from './use-chromium'

// The ESM build (`dist/steadysocket.js`) imported by a `<script type="module">` page, in
// Chromium, against a real echo server, a fault proxy and the control endpoint.

const launched = useChromium()
let backend: Backend
let context: BrowserContext
let page: Page
let pageErrors: string[]

beforeEach(async () => {
  backend = await startBackend()
  ;({ context, page, errors: pageErrors } = await openPage(launched.browser, `${launched.web.url}/esm.html`))
})

afterEach(async () => {
  await context?.close()
  await backend?.close()
  expect(pageErrors).toEqual([])
})

const untilStatus = (status: string) => page.waitForFunction((s) => window.harness.status() === s, status)
const untilEvent = (event: string) => page.waitForFunction((e) => window.harness.events.includes(e), event)
const retry = { initialDelay: 100, maxDelay: 500 }

describe('the ESM build in Chromium', () => {
  test('exports the public API from dist/steadysocket.js', async () => {
    const names = await page.evaluate(() => Object.keys(window.harness.lib).sort())
    expect(names).toEqual([
      'CloseCode',
      'ConnectionError',
      'MessageError',
      'QueueOverflowError',
      'SocketClosedError',
      'SteadySocketError',
      'StorageError',
      'TimeoutError',
      'backoffDelay',
      'browserEnvironment',
      'createSocket',
      'isFatalClose',
    ])
  })

  test('sends typed JSON as text frames and delivers the parsed echo', async () => {
    await page.evaluate((url) => window.harness.open([url]), backend.server.url)
    await untilStatus('open')
    const sent = await page.evaluate(() => window.harness.send({ type: 'say', text: 'héllo ✓', n: 1 }))
    await page.waitForFunction(() => window.harness.messages.length === 1)

    expect(sent).toBe(true)
    expect(await page.evaluate(() => window.harness.messages)).toEqual([{ type: 'say', text: 'héllo ✓', n: 1 }])
    expect(backend.server.log).toEqual([{ conn: 1, binary: false, data: '{"type":"say","text":"héllo ✓","n":1}' }])
  })

  test('sends binary frames and receives them as ArrayBuffer by default', async () => {
    await page.evaluate((url) => window.harness.open([url]), backend.server.url)
    await untilStatus('open')
    await page.evaluate(() => window.harness.sendBytes([0, 1, 2, 253, 254, 255]))
    await page.waitForFunction(() => window.harness.binaries.length === 1)

    expect(await page.evaluate(() => window.harness.binaries)).toEqual([
      { kind: '[object ArrayBuffer]', bytes: [0, 1, 2, 253, 254, 255] },
    ])
    expect(await page.evaluate(() => window.harness.messages)).toEqual([])
    expect(backend.server.log.map((entry) => [entry.binary, [...entry.data]])).toEqual([[true, [0, 1, 2, 253, 254, 255]]])
  })

  test('keeps messages queued through a server restart and sends each once, in order', async () => {
    await page.evaluate((options) => window.harness.open([options.url], { retry: options.retry }), {
      url: backend.server.url,
      retry,
    })
    await untilStatus('open')
    await backend.server.stop()
    await untilStatus('reconnecting')

    const results = await page.evaluate(() => Array.from({ length: 20 }, (_, n) => window.harness.send({ n })))
    expect(results).toEqual(Array.from({ length: 20 }, () => false))
    expect(await page.evaluate(() => window.harness.socket?.state.queued)).toBe(20)

    await backend.server.start()
    await untilEvent('open:reconnect')
    // A marker sent after the flush: any duplicate of a queued frame would arrive before it.
    await page.evaluate(() => window.harness.send({ n: 'end' }))
    await backend.server.waitFor((server) => server.log.some((entry) => entry.data === '{"n":"end"}'))
    await page.waitForFunction(() => window.harness.messages.length === 21)

    const expected = [...Array.from({ length: 20 }, (_, n) => n), 'end']
    const received = backend.server.log.map((entry) => ({ conn: entry.conn, n: JSON.parse(String(entry.data)).n }))
    expect(received).toEqual(expected.map((n) => ({ conn: 2, n })))
    expect(await page.evaluate(() => window.harness.messages)).toEqual(expected.map((n) => ({ n })))
    expect(await page.evaluate(() => window.harness.socket?.state.queued)).toBe(0)
    expect(await page.evaluate(() => window.harness.events.filter((e) => e.startsWith('open') || e.startsWith('close')))).toEqual([
      'open',
      'close:1006::retry',
      'open:reconnect',
    ])
  })

  test('stays offline while the browser is offline and connects as soon as it is online', async () => {
    await context.setOffline(true)
    await page.waitForFunction(() => !navigator.onLine)
    await page.evaluate((url) => window.harness.open([url]), backend.server.url)
    await untilStatus('offline')
    const queued = await page.evaluate(() => window.harness.send({ text: 'written offline' }))

    expect(queued).toBe(false)
    expect(await page.evaluate(() => window.harness.socket?.state)).toMatchObject({
      status: 'offline',
      online: false,
      attempt: 0,
      retryAt: null,
      queued: 1,
    })
    expect(await page.evaluate(() => window.harness.urlCalls)).toBe(0)

    await context.setOffline(false)
    await untilStatus('open')
    await backend.server.waitForLog(1)

    expect(backend.server.log.map((entry) => entry.data)).toEqual(['{"text":"written offline"}'])
    expect(await page.evaluate(() => window.harness.urlCalls)).toBe(1)
    expect(await page.evaluate(() => window.harness.statuses)).toEqual(['offline', 'connecting', 'open'])
  })

  test('keeps an open connection when the browser goes offline and reports it in state.online', async () => {
    await page.evaluate((url) => window.harness.open([url]), backend.server.url)
    await untilStatus('open')
    await context.setOffline(true)
    await page.waitForFunction(() => window.harness.socket?.state.online === false)

    expect(await page.evaluate(() => window.harness.status())).toBe('open')

    await context.setOffline(false)
    await page.waitForFunction(() => window.harness.socket?.state.online === true)
    await page.evaluate(() => window.harness.send({ text: 'still here' }))
    await page.waitForFunction(() => window.harness.messages.length === 1)

    expect(backend.server.totalConnections).toBe(1)
    expect(await page.evaluate(() => window.harness.events)).toEqual(['open'])
  })

  test('with a heartbeat, verifies the connection when the browser goes offline, then waits for online', async () => {
    // A long interval: only the ping sent at once on `offline` can find the connection dead in time.
    await page.evaluate(
      (options) => window.harness.open([options.url], { retry: options.retry, heartbeat: { interval: 60000, timeout: 1000 } }),
      { url: backend.server.url, retry },
    )
    await untilStatus('open')
    await context.setOffline(true)
    await untilStatus('offline')

    expect(await page.evaluate(() => window.harness.events)).toEqual([
      'open',
      'error:TimeoutError',
      'close:4000:heartbeat timeout:retry',
    ])
    expect(await page.evaluate(() => window.harness.socket?.state)).toMatchObject({ attempt: 0, retryAt: null, online: false })

    await context.setOffline(false)
    await untilStatus('open')

    expect(await page.evaluate(() => window.harness.urlCalls)).toBe(2)
    expect(await page.evaluate(() => window.harness.events)).toEqual([
      'open',
      'error:TimeoutError',
      'close:4000:heartbeat timeout:retry',
      'open:reconnect',
    ])
  })

  test('stops on a fatal close code from the server and opens no new connection', async () => {
    await page.evaluate(
      (url) => window.harness.open([url], { retry: { initialDelay: 1, jitter: 'none' } }),
      backend.server.url,
    )
    await untilStatus('open')
    await backend.command('/close?code=1008&reason=policy')
    await untilStatus('closed')

    // A reconnection would start 1 ms after the close, so it would reach the server before
    // this probe, which starts only after the page reported 'closed'.
    await page.evaluate(
      (url) =>
        new Promise<void>((resolve, reject) => {
          const probe = new WebSocket(`${url}/probe`)
          probe.onopen = () => resolve(probe.close())
          probe.onerror = () => reject(new Error('probe failed'))
        }),
      backend.server.url,
    )

    expect(backend.server.handshakes.map((h) => h.url)).toEqual(['/', '/probe'])
    expect(await page.evaluate(() => window.harness.events)).toEqual(['open', 'error:ConnectionError', 'close:1008:policy:stop'])
    expect(await page.evaluate(() => window.harness.socket?.state.lastClose)).toEqual({
      code: 1008,
      reason: 'policy',
      wasClean: true,
    })
  })

  test('detects a half-open connection with the heartbeat and reconnects through a healthy path', async () => {
    // First attempt through the proxy, every later one straight to the server.
    await page.evaluate(
      (options) =>
        window.harness.open(options.urls, { retry: options.retry, heartbeat: { interval: 500, timeout: 500 } }),
      { urls: [backend.proxy.url, backend.server.url], retry },
    )
    await untilStatus('open')
    await page.waitForFunction(() => window.harness.socket?.state.rtt !== null)
    await backend.command('/blackhole?on=1')
    await untilEvent('close:4000:heartbeat timeout:retry')
    await untilStatus('open')
    await page.evaluate(() => window.harness.send({ text: 'after' }))
    await page.waitForFunction(() => window.harness.messages.length === 1)

    expect(await page.evaluate(() => window.harness.events)).toEqual([
      'open',
      'error:TimeoutError',
      'close:4000:heartbeat timeout:retry',
      'reconnecting:1',
      'open:reconnect',
    ])
    expect(await page.evaluate(() => window.harness.urlCalls)).toBe(2)
    expect(backend.proxy.swallowed.up).toBeGreaterThan(0)
    // The server never learned that the first connection died: it still holds both.
    expect(backend.server.connections).toBe(2)
    expect(backend.server.log.filter((entry) => entry.conn === 2).map((entry) => entry.data)).toContain('{"text":"after"}')
  })
})
