import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, test } from 'vitest'
import WS from 'ws'
import ReconnectingWebSocket, { type ReconnectingWebSocketOptions } from '../../src/websocket/index'
import { startProxy, startServer } from '../server/index.js'
import { cleanup } from './helpers'

const root = fileURLToPath(new URL('../..', import.meta.url))
const fast = { minReconnectionDelay: 100, maxReconnectionDelay: 300 }

async function server() {
  const started = await startServer({ mode: 'echo' })
  cleanup(() => started.close())
  return started
}

/** A wrapper using the `ws` package as its WebSocket (Node 20 has none), closed after the test. */
function open(url: string, options: ReconnectingWebSocketOptions = {}) {
  const ws = new ReconnectingWebSocket(url, undefined, { WebSocket: WS, ...fast, ...options })
  cleanup(() => ws.close())
  const log: string[] = []
  ws.addEventListener('open', () => log.push(`open:${ws.readyState}`))
  ws.addEventListener('close', ({ code, reason }) => log.push(`close:${code}:${reason}:${ws.readyState}`))
  ws.addEventListener('error', (event) => log.push(`error:${(event as Event & { message: string }).message === 'TIMEOUT' ? 'TIMEOUT' : 'failed'}`))
  return { ws, log }
}

/** Resolves when `predicate` holds, checked after every event of `ws`; rejects after `ms`. */
function until(ws: ReconnectingWebSocket, predicate: () => boolean, what: string, ms = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!predicate()) return
      clearTimeout(timer)
      for (const type of types) ws.removeEventListener(type, check)
      resolve()
    }
    const types = ['open', 'message', 'close', 'error'] as const
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what} (readyState ${ws.readyState})`)), ms)
    for (const type of types) ws.addEventListener(type, check)
    check()
  })
}

describe('ReconnectingWebSocket against a real ws server, with the ws client injected', () => {
  test('echoes text and binary frames, delivering the data as the native socket does', async () => {
    const srv = await server()
    const { ws } = open(srv.url)
    const received: unknown[] = []
    ws.onmessage = (event) => received.push(event.data)
    await until(ws, () => ws.readyState === ws.OPEN, 'open')
    expect(ws.binaryType).toBe('nodebuffer')
    ws.send('text')
    ws.send(new Uint8Array([1, 2, 3]))
    await until(ws, () => received.length === 2, 'two echoes')
    ws.binaryType = 'arraybuffer'
    ws.send(new Uint8Array([4, 5]).buffer)
    await until(ws, () => received.length === 3, 'the third echo')
    expect(received[0]).toBe('text')
    expect(Buffer.isBuffer(received[1]) && [...(received[1] as Buffer)]).toEqual([1, 2, 3])
    expect(received[2]).toBeInstanceOf(ArrayBuffer)
    expect([...new Uint8Array(received[2] as ArrayBuffer)]).toEqual([4, 5])
    expect(srv.log.map((entry) => entry.binary)).toEqual([false, true, true])
  })

  test('a server restart: a close event, the sends made meanwhile flushed in order, open again', async () => {
    const srv = await server()
    const { ws, log } = open(srv.url)
    await until(ws, () => ws.readyState === ws.OPEN, 'open')
    ws.send('0')
    await srv.waitForLog(1)
    await srv.stop()
    await until(ws, () => log.includes('close:1006::3'), 'the drop')
    for (let n = 1; n <= 20; n++) ws.send(String(n))
    expect(ws.bufferedAmount).toBe(9 + 11 * 2)
    await srv.start()
    await srv.waitForLog(21)
    await until(ws, () => ws.readyState === ws.OPEN, 'open again')
    expect(srv.log.map((entry) => String(entry.data))).toEqual(Array.from({ length: 21 }, (_, n) => String(n)))
    expect([log.filter((entry) => !entry.startsWith('error')), ws.bufferedAmount]).toEqual([['open:1', 'close:1006::3', 'open:1'], 0])
  })

  test('reconnects after a server close with any code, 1008 included', async () => {
    const srv = await server()
    const { ws, log } = open(srv.url)
    await until(ws, () => ws.readyState === ws.OPEN, 'open')
    srv.closeAll(1008, 'policy')
    await until(ws, () => log.length === 3, 'the reconnect')
    expect(log).toEqual(['open:1', 'close:1008:policy:3', 'open:1'])
    expect(srv.totalConnections).toBe(2)
  })

  test('close(code, reason) reaches the server and stops for good; reconnect(code, reason) too, then opens again', async () => {
    const srv = await server()
    const { ws, log } = open(srv.url)
    await until(ws, () => ws.readyState === ws.OPEN, 'open')
    ws.reconnect(4001, 'refresh')
    await until(ws, () => log.length === 3, 'the reconnect')
    ws.close(4002, 'bye')
    expect(ws.readyState).toBe(ws.CLOSING)
    await srv.waitFor((s) => s.closes.length === 2)
    expect(srv.closes.map(({ code, reason }) => `${code}:${reason}`)).toEqual(['4001:refresh', '4002:bye'])
    expect(log).toEqual(['open:1', 'close:1000:reconnect:3', 'open:1', 'close:4002:bye:3'])
    expect(srv.totalConnections).toBe(2)
  })

  test('the subprotocol the server picked is the protocol, from an async protocols function', async () => {
    const srv = await server()
    const ws = new ReconnectingWebSocket(srv.url, async () => ['chat.v2', 'chat.v1'], { WebSocket: WS })
    cleanup(() => ws.close())
    await until(ws, () => ws.readyState === ws.OPEN, 'open')
    expect([ws.protocol, ws.url, srv.handshakes[0]!.protocol]).toEqual(['chat.v2', srv.url, 'chat.v2'])
  })

  test('with heartbeat on, a half-open connection is found dead, and what was sent during it arrives after', async () => {
    const srv = await server()
    const proxy = await startProxy({ target: srv })
    cleanup(() => proxy.close())
    const { ws, log } = open(proxy.url, { heartbeat: { interval: 300, timeout: 300 }, connectionTimeout: 1000 })
    await until(ws, () => ws.readyState === ws.OPEN, 'open')
    proxy.blackhole(true)
    await until(ws, () => log.some((entry) => entry.startsWith('close:4000')), 'the heartbeat timeout')
    ws.send('during the outage')
    await until(ws, () => log.includes('error:TIMEOUT'), 'an attempt timing out in the blackhole')
    proxy.blackhole(false)
    await srv.waitFor((s) => s.log.some((entry) => entry.data.toString() === 'during the outage'))
    await until(ws, () => ws.readyState === ws.OPEN, 'open again')
    expect(log.slice(0, 3)).toEqual(['open:1', 'error:failed', 'close:4000:heartbeat timeout:3'])
    expect(log.at(-1)).toBe('open:1')
  })
})

describe('ReconnectingWebSocket in Node 20 with --experimental-websocket (the global WebSocket)', () => {
  // The built file in a child process: the flag cannot be turned on inside this one. It
  // imports 'steadysocket/websocket' by name, as an app does (the package refers to itself).
  const app = `
    import ReconnectingWebSocket from 'steadysocket/websocket'
    const say = (line) => process.stdout.write(line + '\\n')
    const ws = new ReconnectingWebSocket(process.argv[1], undefined, { minReconnectionDelay: 100, maxReconnectionDelay: 300 })
    ws.binaryType = 'arraybuffer'
    let n = 0
    ws.onopen = () => {
      say('open:' + ws.readyState + ':' + (typeof WebSocket))
      ws.send('m' + n++)
      ws.send(new Uint8Array([n]))
    }
    ws.onmessage = ({ data }) => {
      say(typeof data === 'string' ? 'text:' + data : (data instanceof ArrayBuffer ? 'binary:' : 'other:') + new Uint8Array(data)[0])
      if (n === 2 && data instanceof ArrayBuffer) ws.close(4000, 'done')
    }
    ws.onclose = ({ code }) => {
      say('close:' + code + ':' + ws.readyState)
      if (code === 4000) setTimeout(() => process.exit(0), 100)
    }
  `

  test('the same app reconnects through a server restart', async () => {
    if (!existsSync(`${root}/dist/websocket.js`)) throw new Error('dist/websocket.js missing — run `npm run build` first')
    const srv = await server()
    const child = spawn(process.execPath, ['--experimental-websocket', '--no-warnings', '--input-type=module', '-e', app, srv.url], { cwd: root })
    cleanup(() => child.kill())
    const lines: string[] = []
    let restarted = false
    child.stdout.setEncoding('utf8')
    let rest = ''
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
    child.stdout.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n')
      rest = parts.pop()!
      lines.push(...parts)
      if (!restarted && lines.includes('binary:1')) {
        restarted = true
        void srv.restart()
      }
    })
    const stderr: string[] = []
    child.stderr.on('data', (chunk) => stderr.push(String(chunk)))
    const code = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('timeout'), 15_000))])
    expect([code, stderr.join('')]).toEqual([0, ''])
    expect(lines).toEqual(['open:1:function', 'text:m0', 'binary:1', 'close:1006:3', 'open:1:function', 'text:m1', 'binary:2', 'close:4000:3'])
  })
})
