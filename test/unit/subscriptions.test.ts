import { describe, expect, test } from 'vitest'
import { setup, tick, useFakeTime } from './helpers'

useFakeTime()

type Event = { topic: string; seq: number }

describe('subscriptions', () => {
  test('sends subscribe once while open; a second holder of the key sends nothing', async () => {
    const { socket, wire } = setup()
    await tick()
    socket.subscribe('prices', { subscribe: { op: 'sub', topic: 'prices' } })
    socket.subscribe('prices', { subscribe: { op: 'sub', topic: 'prices' } })
    expect(wire).toEqual(['{"op":"sub","topic":"prices"}'])
  })

  test('while not open sends nothing now and subscribes on open', async () => {
    const { socket, wire } = setup({ lazy: true })
    socket.subscribe('a', { subscribe: 'sub-a' })
    expect(wire).toEqual([])
    await tick()
    expect(wire).toEqual(['"sub-a"'])
  })

  test('re-sends every active subscription on reconnect before the queue flush and before open', async () => {
    const { socket, wire, client } = setup()
    socket.on('open', () => wire.push('open event'))
    await tick()
    socket.subscribe('a', { subscribe: 'sub-a' })
    socket.subscribe('b', { subscribe: 'sub-b' })
    client().close({ code: 1006, reason: '', wasClean: false })
    await tick()
    socket.send('queued')
    await tick(500)
    expect(wire).toEqual(['open event', '"sub-a"', '"sub-b"', '"sub-a"', '"sub-b"', '"queued"', 'open event'])
  })

  test('a function subscribe is called at each reconnect, so it can resume from the last offset seen', async () => {
    const { socket, wire, client } = setup<Event, { op: string; from: number }>()
    let lastSeq = 0
    socket.subscribe('feed', { subscribe: () => ({ op: 'sub', from: lastSeq }) }, (event) => (lastSeq = event.seq))
    await tick()
    client().send(JSON.stringify({ topic: 'feed', seq: 41 }))
    client().send(JSON.stringify({ topic: 'feed', seq: 42 }))
    client().close({ code: 1006, reason: '', wasClean: false })
    await tick(500)
    expect(wire).toEqual(['{"op":"sub","from":0}', '{"op":"sub","from":42}'])
  })

  test('sends unsubscribe when the last holder releases, only if open; releasing twice is a no-op', async () => {
    const { socket, wire, client } = setup()
    await tick()
    const spec = { subscribe: 'sub', unsubscribe: 'unsub' }
    const first = socket.subscribe('k', spec)
    const second = socket.subscribe('k', spec)
    first()
    first()
    expect(wire).toEqual(['"sub"'])
    second()
    expect(wire).toEqual(['"sub"', '"unsub"'])
    const third = socket.subscribe('k', spec)
    client().close({ code: 1006, reason: '', wasClean: false })
    await tick()
    third()
    await tick(500)
    expect(wire).toEqual(['"sub"', '"unsub"', '"sub"'])
  })

  test('match routes messages to the subscription handler; every message is still emitted', async () => {
    const { socket, client, log } = setup<Event>()
    const prices: number[] = []
    const news: number[] = []
    socket.subscribe('prices', { subscribe: 'p', match: (m) => m.topic === 'prices' }, (m) => prices.push(m.seq))
    socket.subscribe('news', { subscribe: 'n', match: (m) => m.topic === 'news' }, (m) => news.push(m.seq))
    await tick()
    client().send('{"topic":"prices","seq":1}')
    client().send('{"topic":"news","seq":2}')
    client().send('{"topic":"prices","seq":3}')
    expect([prices, news]).toEqual([[1, 3], [2]])
    expect(log.length).toBe(4)
  })

  test('a released holder stops receiving while other holders keep receiving', async () => {
    const { socket, client } = setup<number>()
    const a: number[] = []
    const b: number[] = []
    const releaseA = socket.subscribe('k', { subscribe: 's' }, (m) => a.push(m))
    socket.subscribe('k', { subscribe: 's' }, (m) => b.push(m))
    await tick()
    client().send('1')
    releaseA()
    client().send('2')
    expect([a, b]).toEqual([[1], [1, 2]])
  })

  test('a handler that throws is reported and other handlers still run', async () => {
    const { socket, client, log } = setup<number>()
    const seen: number[] = []
    socket.subscribe('x', { subscribe: 's' }, () => {
      throw new Error('handler bug')
    })
    socket.subscribe('y', { subscribe: 't' }, (m) => seen.push(m))
    await tick()
    client().send('7')
    expect(seen).toEqual([7])
    expect(log).toEqual(['open', 'error:SteadySocketError', 'message:7'])
  })
})
