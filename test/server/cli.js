#!/usr/bin/env node
import { parseArgs } from 'node:util'
import { startControl, startProxy, startServer } from './index.js'

const usage =
  'usage: node test/server/cli.js [--port 8080] [--control-port 8081] [--proxy-port 8082] [--mode echo|pubsub]'

/** @param {string | undefined} value @param {string} name */
const port = (value, name) => {
  if (value === undefined) return 0
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--${name} ${value}: expected a port from 0 to 65535`)
  return n
}

let args
try {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      'control-port': { type: 'string' },
      'proxy-port': { type: 'string' },
      mode: { type: 'string', default: 'echo' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    console.log(usage)
    process.exit(0)
  }
  if (values.mode !== 'echo' && values.mode !== 'pubsub') throw new Error(`--mode ${values.mode}: expected echo or pubsub`)
  args = {
    mode: /** @type {'echo' | 'pubsub'} */ (values.mode),
    port: port(values.port, 'port'),
    controlPort: port(values['control-port'], 'control-port'),
    proxyPort: port(values['proxy-port'], 'proxy-port'),
  }
} catch (error) {
  console.error(`${error instanceof Error ? error.message : error}\n${usage}`)
  process.exit(2)
}

/** @type {Array<{ close(): Promise<void> }>} */
const running = []
const shutdown = async () => {
  await Promise.allSettled([...running].reverse().map((r) => r.close()))
}

for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.once(signal, () => {
    void shutdown().then(() => process.exit(0))
  })
}

try {
  const server = await startServer({ port: args.port, mode: args.mode })
  running.push(server)
  const proxy = await startProxy({ target: server, port: args.proxyPort })
  running.push(proxy)
  const control = await startControl({ port: args.controlPort, server, proxy })
  running.push(control)
  console.log(JSON.stringify({ url: server.url, proxyUrl: proxy.url, controlUrl: control.url }))
} catch (error) {
  console.error(error instanceof Error ? error.message : error)
  await shutdown()
  process.exit(1)
}
