import type { BrowserContext, Page } from 'playwright-core'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { openPage, startBackend, type Backend } from './harness'
import { useChromium } from './use-chromium'

// dist/websocket.js in Chromium: an app written for the native WebSocket, unchanged but for
// its import (e2e/pages/websocket-app.js); the class beside the native WebSocket; and the
// class on the IIFE's SteadySocket global.

const launched = useChromium()
let backend: Backend
let context: BrowserContext
let page: Page
let pageErrors: string[]

beforeEach(async () => {
  backend = await startBackend()
})

afterEach(async () => {
  await context?.close()
  await backend?.close()
  expect(pageErrors).toEqual([])
})

describe('a native-WebSocket app on steadysocket/websocket', () => {
  const lines = () => page.$$eval('#log li', (items) => items.map((item) => item.textContent))
  const status = () => page.$eval('#status', (output) => (output as HTMLOutputElement).value)
  const say = async (text: string) => {
    await page.fill('#text', text)
    await page.press('#text', 'Enter')
  }
  const shown = (text: string) => page.waitForFunction((text) => [...document.querySelectorAll('#log li')].some((item) => item.textContent === text), text)

  test('keeps working through a server restart and a half-open blackhole', async () => {
    ;({ context, page, errors: pageErrors } = await openPage(launched.browser, `${launched.web.url}/websocket.html?ws=${encodeURIComponent(backend.proxy.url)}`, { harness: false }))
    await page.waitForFunction(() => (document.querySelector('#status') as HTMLOutputElement).value === 'open')
    await say('one')
    await shown('one')

    await backend.server.stop()
    await shown('* disconnected (1006)')
    await say('two, sent while the server is down')
    expect(await status()).toBe('closed')
    await backend.server.start()
    await shown('two, sent while the server is down')

    backend.proxy.blackhole(true)
    await shown('* disconnected (4000)')
    await say('three, sent while the network is a black hole')
    // Attempts into the black hole time out (connectionTimeout 1000 ms); one must have started.
    await backend.proxy.waitFor((proxy) => proxy.totalConnections >= 3)
    backend.proxy.blackhole(false)
    await shown('three, sent while the network is a black hole')

    expect(await lines()).toEqual([
      '* connected',
      'one',
      '* disconnected (1006)',
      '* connected',
      'two, sent while the server is down',
      '* disconnected (4000)',
      '* connected',
      'three, sent while the network is a black hole',
    ])
    expect(await status()).toBe('open')
    // Pings went over the wire and were taken as pongs, never shown as messages.
    expect(backend.server.log.some((entry) => String(entry.data) === 'ping')).toBe(true)
  })
})

describe('beside the native WebSocket in Chromium', () => {
  // The same script with each class; the page has an import map, so the string is evaluated
  // as is (Vitest would rewrite an import() inside a function).
  const observe = `async ([which, url]) => {
    const WS = which === 'native' ? WebSocket : (await import('steadysocket/websocket')).default
    const out = []
    const ws = new WS(url)
    out.push('new:' + ws.readyState + ':' + ws.binaryType + ':' + (ws instanceof EventTarget))
    out.push('constants:' + [WS.CONNECTING, WS.OPEN, WS.CLOSING, WS.CLOSED, ws.CONNECTING, ws.OPEN, ws.CLOSING, ws.CLOSED])
    const next = (type) => new Promise((resolve) => ws.addEventListener(type, resolve, { once: true }))
    const object = { handleEvent: (event) => out.push('object:' + Object.prototype.toString.call(event.data)) }
    ws.addEventListener('message', object)
    ws.addEventListener('message', object)
    ws.onmessage = function (event) { out.push('onmessage:' + (this === ws) + ':' + (event.target === ws) + ':' + (event instanceof MessageEvent)) }
    ws.addEventListener('message', () => out.push('once'), { once: true })
    ws.addEventListener('open', () => out.push('open:' + ws.readyState))
    await next('open')
    out.push('url:' + (ws.url === url || ws.url === url + '/') + ':protocol:' + ws.protocol)
    ws.send(new Uint8Array([1, 2]))
    const blob = (await next('message')).data
    out.push('blob:' + blob.size)
    ws.binaryType = 'arraybuffer'
    ws.send('')
    await next('message')
    ws.send(new Blob(['abc']))
    out.push('buffer:' + (await next('message')).data.byteLength)
    ws.onclose = (event) => out.push('close:' + [event.code, event.reason, event.wasClean, ws.readyState])
    const closed = next('close')
    ws.close(4000, 'bye')
    out.push('after close():' + ws.readyState)
    ws.close()
    await closed
    return out
  }`

  test('reads and fires as the native WebSocket does', async () => {
    ;({ context, page, errors: pageErrors } = await openPage(launched.browser, `${launched.web.url}/websocket-native.html`, { harness: false }))
    const native = await page.evaluate(`(${observe})(['native', ${JSON.stringify(backend.server.url)}])`)
    const ours = await page.evaluate(`(${observe})(['steadysocket', ${JSON.stringify(backend.server.url)}])`)
    expect(ours).toEqual(native)
    expect(native).toEqual([
      'new:0:blob:true',
      'constants:0,1,2,3,0,1,2,3',
      'open:1',
      'url:true:protocol:',
      'object:[object Blob]',
      'onmessage:true:true:true',
      'once',
      'blob:2',
      'object:[object String]',
      'onmessage:true:true:true',
      'object:[object ArrayBuffer]',
      'onmessage:true:true:true',
      'buffer:3',
      'after close():2',
      'close:4000,bye,true,3',
    ])
  })
})

describe('the IIFE build', () => {
  test('puts ReconnectingWebSocket on the SteadySocket global, working', async () => {
    ;({ context, page, errors: pageErrors } = await openPage(launched.browser, `${launched.web.url}/iife.html`))
    const echoed = await page.evaluate(
      (url) =>
        new Promise<unknown>((resolve) => {
          const global = window.SteadySocket as unknown as typeof import('steadysocket/websocket')
          const ws = new global.ReconnectingWebSocket(url)
          ws.onopen = () => ws.send('from a script tag')
          ws.onmessage = (event: MessageEvent) => {
            ws.close()
            resolve(event.data)
          }
        }),
      backend.server.url,
    )
    expect(echoed).toBe('from a script tag')
  })
})
