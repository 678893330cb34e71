#!/usr/bin/env node
// @ts-check
// `npm run demo`: the test server (pub/sub mode), the fault proxy in front of it, their
// HTTP control endpoint and a Vite dev server for this folder, in this one process, so
// Ctrl-C stops everything and nothing is left behind. No build step: the page imports
// `steadysocket` and `steadysocket/react` from src/ through the aliases of vite.config.ts.
import { createServer as createTcpServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { startControl, startProxy, startServer } from '../test/server/index.js'

const root = fileURLToPath(new URL('..', import.meta.url))

/** Each port: its env var, its default (0 picks a free port) and what listens on it. */
const PORTS = /** @type {const} */ ({
  page: ['DEMO_PORT', 5173, 'the demo page'],
  server: ['DEMO_WS_PORT', 0, 'the WebSocket server'],
  proxy: ['DEMO_PROXY_PORT', 0, 'the fault proxy'],
  control: ['DEMO_CONTROL_PORT', 0, 'the control endpoint'],
})

/** @param {keyof typeof PORTS} which */
function port(which) {
  const [name, fallback] = PORTS[which]
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!/^\d+$/.test(raw) || value > 65535) fail(`${name}=${raw}: expected a port number from 0 to 65535 (0 picks a free one).`)
  return value
}

/** @param {string} message @returns {never} */
function fail(message) {
  console.error(`steadysocket demo: ${message}`)
  process.exit(1)
}

/** @param {unknown} error */
const inUse = (error) =>
  error instanceof Error &&
  (/EADDRINUSE|already in use/i.test(error.message) || (error.cause instanceof Error && /EADDRINUSE/.test(error.cause.message)))

/** @type {Array<{ close(): Promise<unknown> }>} */
const running = []
let stopping = false
/** @param {number} code */
async function stop(code) {
  if (stopping) return
  stopping = true
  await Promise.allSettled([...running].reverse().map((r) => r.close()))
  process.exit(code)
}
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) process.once(signal, () => void stop(0))

const ports = { page: port('page'), server: port('server'), proxy: port('proxy'), control: port('control') }

/** @param {keyof typeof PORTS} which */
const busy = (which) => {
  const [name, , what] = PORTS[which]
  return `port ${ports[which]} for ${what} is in use. Stop what holds it, or pick another: ${name}=${ports[which] + 1} npm run demo (0 picks a free port).`
}

// Fixed ports are tried before anything starts, so a busy one is reported at once.
for (const which of /** @type {Array<keyof typeof PORTS>} */ (Object.keys(ports))) {
  if (ports[which] === 0) continue
  const probe = createTcpServer()
  const free = await new Promise((resolve) => {
    probe.once('error', () => resolve(false))
    probe.listen(ports[which], '127.0.0.1', () => probe.close(() => resolve(true)))
  })
  if (!free) fail(busy(which))
}

/**
 * @template T
 * @param {keyof typeof PORTS} which
 * @param {() => Promise<T & { close(): Promise<unknown> }>} start
 * @returns {Promise<T>}
 */
async function launch(which, start) {
  try {
    const started = await start()
    running.push(started)
    return started
  } catch (error) {
    const message = inUse(error)
      ? busy(which)
      : `cannot start ${PORTS[which][2]}: ${error instanceof Error ? error.message : String(error)}`
    console.error(`steadysocket demo: ${message}`)
    await stop(1)
    throw error
  }
}

const server = await launch('server', () => startServer({ port: ports.server, mode: 'pubsub' }))
const proxy = await launch('proxy', () => startProxy({ target: server, port: ports.proxy }))
const control = await launch('control', () => startControl({ port: ports.control, server, proxy }))

// Vite hands env vars with the VITE_ prefix to the page as import.meta.env.*.
process.env.VITE_DEMO_WS_URL = proxy.url
process.env.VITE_DEMO_CONTROL_URL = control.url

/**
 * `GET /server-view` on the page's origin: what the WebSocket server sees now, which the page
 * polls to show how many connections its tabs hold (one, however many tabs share it). Not
 * the control's `/state`: that one carries every frame logged since the start.
 * @type {import('vite').Plugin}
 */
const serverView = {
  name: 'steadysocket-demo:server-view',
  configureServer(dev) {
    dev.middlewares.use('/server-view', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
      res.end(JSON.stringify({ listening: server.listening, connections: server.connections, totalConnections: server.totalConnections }))
    })
  },
}

// Imported only now: it is the slow part of starting, and a busy port should not wait for it.
const { createServer } = await import('vite')
const vite = await launch('page', () =>
  createServer({
    configFile: `${root}vite.config.ts`,
    root: `${root}demo`,
    mode: 'development',
    logLevel: 'warn',
    clearScreen: false,
    plugins: [serverView],
    // Its own cache, so the demo and the tests' Vite runs do not rewrite each other's.
    cacheDir: `${root}node_modules/.vite-demo`,
    // A demo, not an editing loop: no file watching and no hot reload, so an edit anywhere
    // in the tree never reloads the page and wipes its log and chat mid-demo. Restart the
    // command to pick up changes.
    server: {
      host: '127.0.0.1',
      port: ports.page,
      strictPort: true,
      fs: { allow: [root] },
      watch: null,
      hmr: false,
      // Transformed while the URL is printed, so the first page load is quick.
      warmup: { clientFiles: ['./main.tsx', './storm-worker.ts'] },
    },
    // Pre-bundled at start and nothing discovered later, so no "new dependencies" reload either.
    optimizeDeps: { include: ['react', 'react/jsx-dev-runtime', 'react-dom/client'], noDiscovery: true },
  }).then((dev) => dev.listen()),
)

const address = vite.httpServer?.address()
const pagePort = address && typeof address === 'object' ? address.port : ports.page
console.log(
  [
    '',
    '  steadysocket demo',
    '',
    `  Open  http://127.0.0.1:${pagePort}/  (open it in more tabs: they share one connection)`,
    '',
    `  WebSocket server ${server.url}, behind the fault proxy ${proxy.url}`,
    `  Fault controls   ${control.url}  (/drop /restart?down=ms /blackhole?on=1&for=ms /latency?ms= /close?code= …)`,
    '',
    '  Ctrl-C stops everything.',
    '',
  ].join('\n'),
)
