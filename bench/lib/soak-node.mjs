// @ts-check
// The soak's Node clients in a process of their own: its RSS and heap are the clients'
// (steadysocket, `ws`, the soak's records), not the test server's, the fault proxy's or
// Playwright's, which stay in bench/soak.mjs. Run as a child, it answers the calls of
// soak-clients.mjs's `remoteClients` over IPC, plus `memory`.
import { fork } from 'node:child_process'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { recordingWebSocket } from '../../test/server/recording-websocket.js'
import { remoteClients, soakMethods } from './soak-clients.mjs'

/**
 * Forks this file with the built steadysocket `file` and opens its clients.
 * @param {string} file
 * @param {{ url: string, first: number, count: number, seed: number, every: number }} options
 */
export async function startNodeClients(file, options) {
  const child = fork(fileURLToPath(import.meta.url), [file], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  /** @type {Map<number, { resolve(value: unknown): void, reject(error: Error): void }>} */
  const waiting = new Map()
  let next = 0
  /** @type {string | undefined} */
  let exited
  child.on('message', (/** @type {{ id: number, result?: unknown, error?: string }} */ { id, result, error }) => {
    const call = waiting.get(id)
    waiting.delete(id)
    if (error === undefined) call?.resolve(result)
    else call?.reject(new Error(error))
  })
  child.once('exit', (code, signal) => {
    exited = `the Node clients' process exited (${code ?? signal})`
    for (const call of waiting.values()) call.reject(new Error(exited))
    waiting.clear()
  })
  /** @param {string} name @param {unknown[]} args @returns {Promise<any>} */
  const call = (name, ...args) =>
    new Promise((resolve, reject) => {
      if (exited) return reject(new Error(exited))
      const id = ++next
      waiting.set(id, { resolve, reject })
      child.send({ id, name, args })
    })
  const clients = remoteClients(call)
  await clients.open(options)
  return {
    ...clients,
    /** The process's RSS and JS heap in use after a full garbage collection, in bytes. @returns {Promise<{ rss: number, heapUsed: number }>} */
    memory: () => call('memory'),
    close() {
      if (!exited) child.kill()
    },
  }
}

if (process.send && process.argv[1] === fileURLToPath(import.meta.url)) {
  const { createSocket } = await import(pathToFileURL(/** @type {string} */ (process.argv[2])).href)
  setFlagsFromString('--expose-gc')
  const gc = /** @type {() => void} */ (runInNewContext('gc'))
  /** @type {Record<string, (...args: any[]) => unknown>} */
  const methods = {
    ...soakMethods(createSocket, (ledger) => recordingWebSocket(ledger.wrote)),
    memory() {
      gc()
      const { rss, heapUsed } = process.memoryUsage()
      return { rss, heapUsed }
    },
  }
  const send = /** @type {(message: unknown) => void} */ (process.send.bind(process))
  process.on('message', async (/** @type {{ id: number, name: string, args: unknown[] }} */ { id, name, args }) => {
    try {
      send({ id, result: await /** @type {(...args: unknown[]) => unknown} */ (methods[name])(...args) })
    } catch (error) {
      send({ id, error: String(/** @type {Error} */ (error)?.message ?? error) })
    }
  })
  // The soak is gone (finished or killed): so are its clients.
  process.once('disconnect', () => process.exit(0))
}
