import { accessSync, constants, existsSync, readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, normalize, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import {
  startControl,
  startProxy,
  startServer,
  type Control,
  type FaultProxy,
  type TestServer,
} from '../test/server/index.js'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.js'

export const root = fileURLToPath(new URL('..', import.meta.url))
export const dist = join(root, 'dist')
const pages = join(root, 'e2e', 'pages')

/** Files the e2e pages load; `npm run build` makes them. */
export const BUILT = ['steadysocket.js', 'steadysocket.iife.js', 'react.js', 'outbox.js', 'shared.js', 'worker-timers.js', 'websocket.js']

/** Why the e2e suite cannot run here, with how to fix it; `undefined` when it can. */
export function missingPrerequisite(): string | undefined {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK)
  } catch {
    return (
      `e2e: no Chromium at ${CHROMIUM_PATH} — install it (Debian: \`apt-get install -y chromium\`) ` +
      'or set CHROMIUM_PATH to a Chromium or Chrome binary.'
    )
  }
  const missing = BUILT.filter((file) => !existsSync(join(dist, file)))
  if (missing.length > 0) {
    return `e2e: ${missing.map((file) => `dist/${file}`).join(', ')} missing — run \`npm run build\` first.`
  }
  return undefined
}

/** Debian's Chromium, headless, with nothing that reaches outside this machine. */
export async function launchChromium(): Promise<Browser> {
  const problem = missingPrerequisite()
  if (problem) throw new Error(problem)
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: CHROMIUM_ARGS,
    timeout: 30000,
  })
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
}

export interface StaticServer {
  /** `http://127.0.0.1:PORT` */
  url: string
  /** Serves `body` at `path` (in memory), e.g. a page bundle built by a test. */
  put(path: string, body: string, type?: string): void
  close(): Promise<void>
}

/** Serves `/dist/*` from the build output and everything else from `e2e/pages`, on 127.0.0.1. */
export async function startStatic(): Promise<StaticServer> {
  const memory = new Map<string, { body: string; type: string }>()
  const http = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname)
    const inMemory = memory.get(path)
    if (inMemory) {
      res.writeHead(200, { 'content-type': inMemory.type, 'cache-control': 'no-store' }).end(inMemory.body)
      return
    }
    const [base, relative] = path.startsWith('/dist/') ? [dist, path.slice('/dist/'.length)] : [pages, path.slice(1)]
    const file = normalize(join(base, relative))
    const type = TYPES[extname(file)]
    if (!file.startsWith(base + sep) || !type || !existsSync(file)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}\n`)
      return
    }
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(readFileSync(file))
  })
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject)
    http.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = http.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    put(path, body, type = TYPES[extname(path)] ?? 'text/plain') {
      memory.set(path, { body, type })
    },
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve())
        http.closeAllConnections()
      }),
  }
}

export interface Backend {
  server: TestServer
  /** Forwards to `server`; `blackhole(true)` makes every connection through it half-open. */
  proxy: FaultProxy
  control: Control
  /** Calls the control endpoint (`/close?code=1008`, `/blackhole?on=1`…) and checks it answered ok. */
  command(path: string): Promise<void>
  close(): Promise<void>
}

/** An echo server, a fault proxy in front of it and the HTTP control endpoint, all on 127.0.0.1. */
export async function startBackend(): Promise<Backend> {
  const server = await startServer({ mode: 'echo' })
  const proxy = await startProxy({ target: server })
  const control = await startControl({ server, proxy })
  return {
    server,
    proxy,
    control,
    async command(path) {
      const response = await fetch(`${control.url}${path}`, { signal: AbortSignal.timeout(5000) })
      const body = (await response.json()) as { ok: boolean; error?: string }
      if (!body.ok) throw new Error(`control ${path}: ${body.error ?? response.status}`)
    },
    async close() {
      await control.close()
      await proxy.close()
      await server.close()
    },
  }
}

/** A fresh context and page; uncaught page errors are collected in `errors`. Waits for `window.harness` unless told not to. */
export async function openPage(
  browser: Browser,
  url: string,
  { harness = true } = {},
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext()
  context.setDefaultTimeout(10000)
  const page = await context.newPage()
  const errors: string[] = []
  page.on('pageerror', (error) => errors.push(String(error)))
  await page.goto(url)
  if (harness) await page.waitForFunction(() => window.harness !== undefined)
  return { context, page, errors }
}

/** The page-side recorder from `e2e/pages/harness.js`. */
export interface Harness {
  /** The module (ESM page) or the `SteadySocket` global (IIFE page). */
  lib: typeof import('steadysocket')
  socket: import('steadysocket').SteadySocket | undefined
  /** `open`, `open:reconnect`, `close:CODE:REASON:retry|stop`, `reconnecting:N`, `error:NAME`. */
  events: string[]
  /** Every `status` the socket moved to, in order. */
  statuses: string[]
  messages: unknown[]
  binaries: Array<{ kind: string; bytes: number[] }>
  /** How often the socket asked for its URL: once per connection attempt. */
  urlCalls: number
  /** `urls[i]` for attempt i; the last one for every later attempt. */
  open(urls: string[], options?: Record<string, unknown>): void
  send(message: unknown): boolean
  sendBytes(bytes: number[]): boolean
  status(): string
}

declare global {
  interface Window {
    harness: Harness
    SteadySocket: typeof import('steadysocket')
  }
}
