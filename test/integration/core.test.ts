import { describe, expect, test } from 'vitest'
import { MessageError, type SteadySocketErrorType } from '../../src/index'
import { startServer } from '../server/index.js'
import { cleanup, connect, record, until } from './helpers'

const fast = { initialDelay: 50, maxDelay: 200, jitter: 'none' as const }

async function server(mode: 'echo' | 'pubsub' = 'echo') {
  const started = await startServer({ mode })
  cleanup(() => started.close())
  return started
}

const texts = (log: { data: unknown; binary: boolean }[]) => log.filter((entry) => !entry.binary).map((entry) => String(entry.data))

describe('against a real ws server on 127.0.0.1', () => {
  test('a server restart loses no queued message, duplicates none and keeps their order', async () => {
    const srv = await server()
    const socket = connect(srv.url, { retry: fast })
    await until(socket, () => socket.state.status === 'open', 'first open')
    socket.send({ n: 0 })
    await srv.waitForLog(1)
    await srv.stop()
    await until(socket, () => socket.state.status === 'reconnecting', 'the drop')
    for (let n = 1; n <= 50; n++) socket.send({ n })
    expect(socket.state.queued).toBe(50)
    await srv.start()
    await srv.waitForLog(51)
    await until(socket, () => socket.state.status === 'open' && socket.state.queued === 0, 'the flush')
    expect(texts(srv.log)).toEqual(Array.from({ length: 51 }, (_, n) => JSON.stringify({ n })))
    expect(srv.totalConnections).toBe(2)
  })

  test('a server 1001 reconnects; a 1008 stops for good', async () => {
    const srv = await server()
    const socket = connect(srv.url, { retry: fast })
    const log = record(socket)
    await until(socket, () => socket.state.status === 'open')
    srv.closeAll(1001, 'redeploy')
    await until(socket, () => log.includes('open:again'), 'the reconnect')
    srv.closeAll(1008, 'forbidden')
    await until(socket, () => socket.state.status === 'closed', 'the fatal close')
    expect(log).toEqual(['open', 'close:1001', 'reconnecting:1', 'open:again', 'error:ConnectionError', 'close:1008:final'])
    expect(socket.state.lastClose).toMatchObject({ code: 1008, reason: 'forbidden' })
    expect(srv.totalConnections).toBe(2)
  })

  test('an abrupt TCP drop is a 1006 and reconnects', async () => {
    const srv = await server()
    const socket = connect(srv.url, { retry: fast })
    const log = record(socket)
    await until(socket, () => socket.state.status === 'open')
    srv.dropAll()
    await until(socket, () => log.includes('open:again'))
    expect(log).toEqual(['open', 'close:1006', 'reconnecting:1', 'open:again'])
  })

  test('echoes binary frames both ways with the default binaryType', async () => {
    const srv = await server()
    const socket = connect(srv.url)
    const received: unknown[] = []
    socket.on('binary', (data) => received.push(data))
    await until(socket, () => socket.state.status === 'open')
    socket.send(new Uint8Array([1, 2, 3]))
    socket.send(new Uint16Array([0xffff]).buffer)
    await until(socket, () => received.length === 2, 'two binary echoes')
    expect(received.every((data) => data instanceof ArrayBuffer)).toBe(true)
    expect(received.map((data) => [...new Uint8Array(data as ArrayBuffer)])).toEqual([[1, 2, 3], [255, 255]])
    expect(srv.log.map((entry) => entry.binary)).toEqual([true, true])
  })

  test('a server that accepts TCP but never completes the handshake trips the connect timeout', async () => {
    const srv = await server()
    srv.stall(true)
    const socket = connect(srv.url, { connectTimeout: 300, retry: fast })
    const log = record(socket)
    await until(socket, () => log.length >= 2, 'the timeout')
    expect(log.slice(0, 2)).toEqual(['error:TimeoutError', 'reconnecting:1'])
    srv.stall(false)
    await until(socket, () => socket.state.status === 'open', 'open after the stall ends')
    expect(srv.connections).toBe(1)
  })

  test('a refused upgrade is retried until the server accepts', async () => {
    const srv = await server()
    srv.refuse(true)
    const socket = connect(srv.url, { retry: fast })
    const log = record(socket)
    await until(socket, () => log.filter((line) => line === 'error:ConnectionError').length >= 2, 'two refusals')
    srv.refuse(false)
    await until(socket, () => socket.state.status === 'open')
    expect(srv.connections).toBe(1)
  })

  test('a fresh url is fetched before every attempt', async () => {
    const srv = await server()
    let token = 0
    const socket = connect(() => `${srv.url}/?token=t${++token}`, { retry: fast })
    await until(socket, () => socket.state.status === 'open')
    srv.dropAll()
    await until(socket, () => srv.handshakes.length === 2 && socket.state.status === 'open')
    expect(srv.handshakes.map((h) => h.url)).toEqual(['/?token=t1', '/?token=t2'])
  })

  test('malformed and invalid frames from the server do not disturb later messages', async () => {
    const srv = await server()
    const isNumbered = (m: unknown): m is { n: number } => typeof (m as { n?: unknown })?.n === 'number'
    const socket = connect(srv.url, { validate: isNumbered })
    const messages: unknown[] = []
    const errors: SteadySocketErrorType[] = []
    socket.on('message', (m) => messages.push(m))
    socket.on('error', (e) => errors.push(e))
    await until(socket, () => socket.state.status === 'open')
    srv.sendRaw('{"n":1}')
    srv.sendRaw('{"n":')
    srv.sendRaw('{"n":"two"}')
    srv.sendRaw('{"n":3}')
    await until(socket, () => messages.length === 2, 'the valid messages')
    expect(messages).toEqual([{ n: 1 }, { n: 3 }])
    expect(errors.map((e) => [e.name, (e as MessageError).data])).toEqual([
      ['MessageError', '{"n":'],
      ['MessageError', '{"n":"two"}'],
    ])
    expect(socket.state.status).toBe('open')
  })
})
