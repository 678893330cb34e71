import { Server } from 'mock-socket'
import { afterEach, beforeEach, describe, expect, test, vi, type MockInstance } from 'vitest'
import { createSocket, type SocketOptions, MessageError, QueueOverflowError, ConnectionError, TimeoutError, SocketClosedError } from '../../src/index'
import { createWarnings } from '../../src/warn'
import { fakeEnvironment, mockServer, tick, useFakeTime } from './helpers'

useFakeTime()

let warn: MockInstance<typeof console.warn>
/** What reached console.warn, one string per line. */
const lines = () => warn.mock.calls.map((args) => args.join(' '))

beforeEach(() => {
  warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
})
afterEach(() => {
  warn.mockRestore()
})

describe('createWarnings', () => {
  let now = 0
  const warnings = () => createWarnings(() => now)
  beforeEach(() => {
    now = 0
  })

  test('writes each error with its name and message', () => {
    const w = warnings()
    w.warn(new QueueOverflowError('message dropped: queue full — see the queue option', { dropped: { secret: 1 } }))
    w.warn(new SocketClosedError('socket closed — call connect() to use it again'))
    expect(lines()).toEqual([
      '[steadysocket] QueueOverflowError: message dropped: queue full — see the queue option',
      '[steadysocket] SocketClosedError: socket closed — call connect() to use it again',
    ])
  })

  test('writes five lines per 10 s at most, and the next line counts those held back', () => {
    const w = warnings()
    for (let i = 1; i <= 8; i++) w.warn(new QueueOverflowError(`drop ${i}`))
    now = 10_001
    w.warn(new QueueOverflowError('drop 9'))
    expect(lines()).toEqual([
      '[steadysocket] QueueOverflowError: drop 1',
      '[steadysocket] QueueOverflowError: drop 2',
      '[steadysocket] QueueOverflowError: drop 3',
      '[steadysocket] QueueOverflowError: drop 4',
      '[steadysocket] QueueOverflowError: drop 5',
      '[steadysocket] QueueOverflowError: drop 9 (3 more not shown)',
    ])
  })

  test('writes each kind of connection failure once per outage, and again after an open', () => {
    const w = warnings()
    for (let i = 0; i < 3; i++) {
      w.warn(new ConnectionError('connect failed: closed with 1006 before open'))
      w.warn(new TimeoutError('connect timeout: still connecting after 10000 ms'))
    }
    w.warn(new ConnectionError('stopped: the server closed with 4401 token expired'))
    w.opened()
    w.warn(new ConnectionError('connect failed: closed with 1006 before open'))
    expect(lines()).toEqual([
      '[steadysocket] ConnectionError: connect failed: closed with 1006 before open',
      '[steadysocket] TimeoutError: connect timeout: still connecting after 10000 ms',
      '[steadysocket] ConnectionError: stopped: the server closed with 4401 token expired',
      '[steadysocket] ConnectionError: connect failed: closed with 1006 before open',
    ])
  })

  test('a connection failure held back by the rate limit is written at its next occurrence', () => {
    const w = warnings()
    for (let i = 1; i <= 5; i++) w.warn(new MessageError(`bad ${i}`))
    w.warn(new ConnectionError('connect failed: refused'))
    now = 10_001
    w.warn(new ConnectionError('connect failed: refused'))
    expect(lines().at(-1)).toBe('[steadysocket] ConnectionError: connect failed: refused (1 more not shown)')
  })

  test('never writes a query string', () => {
    const w = warnings()
    w.warn(new ConnectionError("connect failed: The URL 'wss://example.com/live?token=s3cret&room=1' is invalid — check the url"))
    expect(lines()).toEqual(["[steadysocket] ConnectionError: connect failed: The URL 'wss://example.com/live…' is invalid — check the url"])
  })

  test('keeps a quoted close reason in a connection failure', () => {
    const w = warnings()
    w.warn(new ConnectionError('stopped: the server closed with 4401 "token expired"'))
    expect(lines()).toEqual(['[steadysocket] ConnectionError: stopped: the server closed with 4401 "token expired"'])
  })

  test('never writes the frame a parser quoted, nor the data of the error', () => {
    const w = warnings()
    w.warn(new MessageError(`decode failed: Unexpected token 'o', "not json, password=hunter2" is not valid JSON — the frame is in .data`, { data: 'not json, password=hunter2' }))
    expect(lines()).toEqual([`[steadysocket] MessageError: decode failed: Unexpected token 'o', … is not valid JSON — the frame is in .data`])
  })
})

/** A socket on a mock server, with no listener at all (the helpers' `setup` records errors). */
function quiet(options: SocketOptions = {}) {
  const mock = mockServer()
  const socket = createSocket(mock.url, { WebSocket: mock.WebSocket, environment: fakeEnvironment().environment, retry: { jitter: 'none' }, ...options })
  return { ...mock, socket }
}

describe('a socket with no error listener', () => {
  test('writes a malformed frame that arrives after a refused connection', async () => {
    const mock = mockServer()
    mock.stop()
    const socket = createSocket(mock.url, { WebSocket: mock.WebSocket, environment: fakeEnvironment().environment })
    await tick()
    const server = new Server(mock.url)
    server.on('connection', (client) => client.send('{"text": "hunter2"'))
    for (let i = 0; i < 60 && socket.state.status !== 'open'; i++) await tick(1000)
    await tick()
    server.stop()
    expect(lines().map((line) => line.split(':').slice(0, 2).join(':'))).toEqual([
      '[steadysocket] ConnectionError: connect failed',
      '[steadysocket] MessageError: message dropped',
    ])
    // The cause's message is in the text; the frame is not.
    expect(lines()[1]).toMatch(/JSON/)
    expect(lines().join('\n')).not.toContain('hunter2')
  })

  test('writes every message the queue drops', async () => {
    const { socket } = quiet({ lazy: true, queue: { maxMessages: 1 } })
    for (let i = 0; i < 4; i++) socket.send({ n: i })
    socket.close()
    expect(lines().filter((line) => line.includes('QueueOverflowError'))).toHaveLength(3)
    expect(lines().join('\n')).not.toMatch(/"n"/)
  })

  test('writes a send after close() with what it means', async () => {
    const { socket } = quiet()
    await tick()
    socket.close()
    socket.send({ type: 'late' })
    expect(lines()).toEqual([expect.stringMatching(/^\[steadysocket\] SocketClosedError: socket closed — call connect\(\)/)])
  })

  test('writes a connection failure once per outage, however many retries fail', async () => {
    const mock = mockServer()
    mock.stop()
    createSocket(mock.url, { WebSocket: mock.WebSocket, environment: fakeEnvironment().environment, retry: { jitter: 'none', maxDelay: 1000 } })
    await tick(10_000)
    expect(lines().filter((line) => line.includes('ConnectionError'))).toHaveLength(1)
  })

  test('says that a fatal close stopped it, with the code and the reason', async () => {
    const { client } = quiet()
    await tick()
    client().close({ code: 4401, reason: 'token expired', wasClean: true })
    await tick(60_000)
    expect(lines()).toEqual([expect.stringMatching(/^\[steadysocket\] ConnectionError: .*4401.*token expired/)])
  })

  test('says that it gave up when its retries are spent, even after a failure it already reported', async () => {
    const mock = mockServer()
    mock.stop()
    createSocket(mock.url, { WebSocket: mock.WebSocket, environment: fakeEnvironment().environment, retry: { jitter: 'none', maxAttempts: 3 } })
    await tick(60_000)
    const failures = lines().filter((line) => line.includes('ConnectionError'))
    expect(failures).toHaveLength(2)
    expect(failures[1]).toMatch(/stopped|gave up/)
  })

  test('puts the message of the cause in the text', async () => {
    createSocket(
      () => {
        throw new Error('token service down')
      },
      { WebSocket: mockServer().WebSocket, environment: fakeEnvironment().environment },
    )
    await tick()
    expect(lines()).toEqual([expect.stringMatching(/^\[steadysocket\] ConnectionError: .*token service down/)])
  })

  test('never writes the query string of the url, in warnings or in debug lines', async () => {
    const debug: string[] = []
    const mock = mockServer()
    mock.stop()
    const socket = createSocket(() => `${mock.url}/live?token=s3cret`, {
      WebSocket: mock.WebSocket,
      environment: fakeEnvironment().environment,
      debug: (...line) => debug.push(line.join(' ')),
    })
    await tick(2000)
    socket.close()
    expect(lines().length).toBeGreaterThan(0)
    expect(debug.length).toBeGreaterThan(0)
    expect([...lines(), ...debug].filter((line) => line.includes('s3cret'))).toEqual([])
  })
})

describe('debug lines', () => {
  test('name the close code and reason', async () => {
    const debug: string[] = []
    const { client } = quiet({ debug: (...line) => debug.push(line.join(' ')) })
    await tick()
    client().close({ code: 4001, reason: 'server restarting', wasClean: true })
    await tick()
    expect(debug.filter((line) => line.includes('4001') && line.includes('server restarting'))).not.toEqual([])
  })
})
