import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { build, type Rolldown } from 'vite'
import { afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { dist, openPage, root, startBackend, type Backend } from './harness'
import { useChromium } from './use-chromium'

// A React page using the built adapter (dist/react.js), bundled the way an app would
// bundle it: `steadysocket` resolves to dist/steadysocket.js, react comes from node_modules.

const launched = useChromium()
let bundle: string
let backend: Backend
let context: BrowserContext
let page: Page
let pageErrors: string[]

async function bundlePage(): Promise<string> {
  const result = await build({
    configFile: false,
    logLevel: 'silent',
    root,
    mode: 'production',
    resolve: {
      alias: [
        { find: /^steadysocket\/react$/, replacement: join(dist, 'react.js') },
        { find: /^steadysocket$/, replacement: join(dist, 'steadysocket.js') },
      ],
    },
    build: {
      write: false,
      minify: false,
      modulePreload: false,
      rolldownOptions: { input: join(root, 'e2e', 'pages', 'react', 'app.tsx') },
    },
  })
  const outputs = (Array.isArray(result) ? result : [result]) as Rolldown.RolldownOutput[]
  const chunks = outputs.flatMap((output) => output.output).filter((item) => item.type === 'chunk')
  expect(chunks.map((chunk) => chunk.isEntry)).toEqual([true])
  return (chunks[0] as Rolldown.OutputChunk).code
}

beforeAll(async () => {
  bundle = await bundlePage()
  launched.web.put('/react/app.js', bundle)
})

beforeEach(async () => {
  backend = await startBackend()
  ;({ context, page, errors: pageErrors } = await openPage(
    launched.browser,
    `${launched.web.url}/react.html?ws=${encodeURIComponent(backend.server.url)}`,
    { harness: false },
  ))
})

afterEach(async () => {
  await context?.close()
  await backend?.close()
  expect(pageErrors).toEqual([])
})

const status = () => page.locator('#status')

describe('the React adapter in Chromium', () => {
  test('the page bundle holds one copy of the core, shared with the adapter', () => {
    expect(bundle.match(/function createSocket\b/g)).toHaveLength(1)
    expect(bundle).toContain('useSyncExternalStore')
  })

  test('shows the status and echoes, with one connection under StrictMode', async () => {
    await status().getByText('open', { exact: true }).waitFor()
    await page.click('#send')
    await page.locator('#echoes li').getByText('hello 1', { exact: true }).waitFor()
    await page.click('#send')
    await page.locator('#echoes li').getByText('hello 2', { exact: true }).waitFor()

    expect(await page.locator('#echoes li').allTextContents()).toEqual(['hello 1', 'hello 2'])
    expect(backend.server.totalConnections).toBe(1)
    expect(backend.server.log.map((entry) => entry.data)).toEqual([
      '{"type":"echo","text":"hello 1"}',
      '{"type":"echo","text":"hello 2"}',
    ])
  })

  test('re-renders the status through a server restart', async () => {
    await status().getByText('open', { exact: true }).waitFor()
    await backend.server.stop()
    await status().getByText('reconnecting', { exact: true }).waitFor()
    await backend.server.start()
    await status().getByText('open', { exact: true }).waitFor()
    await page.click('#send')
    await page.locator('#echoes li').getByText('hello 1', { exact: true }).waitFor()

    expect(backend.server.totalConnections).toBe(2)
  })

  test('closes the shared socket after the last component unmounts', async () => {
    await status().getByText('open', { exact: true }).waitFor()
    await page.click('#unmount')
    await page.locator('#unmounted').waitFor()
    await backend.server.waitFor((server) => server.closes.length === 1, 5000)

    expect(backend.server.closes).toEqual([{ conn: 1, code: 1000, reason: '' }])
    expect(backend.server.connections).toBe(0)
  })
})
