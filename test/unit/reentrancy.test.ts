import { describe, expect, test, vi } from 'vitest'
import type { SocketEventName, SocketStatus } from '../../src/index'
import { setup, tick, useFakeTime } from './helpers'

useFakeTime()

// DESIGN 2.1: every method may be called from inside any listener, and the call wins.

type Method = 'close' | 'reconnect' | 'connect'
type World = ReturnType<typeof world>

/** A socket with the heartbeat on, a server that answers pings, and switches to fail or drop. */
function world() {
  const s = setup({ heartbeat: { interval: 1000, timeout: 500 }, queue: { ttl: 1000 } })
  let refusing = false
  let silent = false
  s.server.on('connection', (client) => {
    // A refused attempt: the server closes it before the open handshake completes.
    if (refusing) return client.close({ code: 1011, reason: 'refused', wasClean: false })
    client.on('message', (data) => data === 'ping' && !silent && client.send('pong'))
  })
  const events: string[] = []
  for (const name of ['open', 'close', 'error', 'reconnecting', 'message', 'state'] as const)
    s.socket.on(name, (payload: any) => events.push(name === 'state' ? `state:${payload.status}` : name === 'close' ? `close:${payload.willReconnect ? 'again' : 'final'}` : name))
  return {
    ...s,
    events,
    refuse: (on: boolean) => (refusing = on),
    silence: (on = true) => (silent = on),
    drop: () => s.client().close({ code: 1006, reason: '', wasClean: false }),
  }
}

/** How each event is made to happen, with the status it happens in. */
const triggers: Array<{ event: SocketEventName; when: string; status?: SocketStatus; error?: string; make: (w: World) => Promise<unknown> }> = [
  { event: 'open', when: 'first open', make: () => tick() },
  { event: 'open', when: 'reopen', make: async (w) => (await tick(), w.drop(), await tick(5000)) },
  { event: 'message', when: 'open', make: async (w) => (await tick(), w.client().send('"hello"'), await tick()) },
  { event: 'close', when: 'drop of an open connection', make: async (w) => (await tick(), w.drop(), await tick()) },
  { event: 'close', when: 'pagehide', make: async (w) => (await tick(), w.env.signal('pagehide'), await tick()) },
  { event: 'reconnecting', when: 'after a drop', make: async (w) => (await tick(), w.drop(), await tick()) },
  { event: 'error', when: 'a refused attempt', make: async (w) => (w.refuse(true), await tick(), w.refuse(false)) },
  {
    event: 'error',
    when: 'a frame expiring during the open flush',
    error: 'QueueOverflowError',
    make: async (w) => {
      w.refuse(true)
      await tick()
      w.socket.send('stale')
      // Older than the queue's ttl (1000 ms) by the time an attempt succeeds.
      await tick(1500)
      w.refuse(false)
      await tick(5000)
    },
  },
  { event: 'error', when: 'a heartbeat timeout', make: async (w) => (await tick(), w.silence(), await tick(2000), w.silence(false)) },
  ...(['connecting', 'open', 'reconnecting', 'offline'] as const).map((status) => ({
    event: 'state' as const,
    when: `entering ${status}`,
    status,
    make: async (w: World) => {
      await tick()
      if (status !== 'connecting' && status !== 'open') w.drop()
      // Offline while waiting to reconnect: the retry timer is abandoned.
      if (status === 'offline') {
        await tick()
        w.env.signal('offline')
      }
      await tick(5000)
      if (status === 'offline') {
        w.env.signal('online')
        await tick()
      }
    },
  })),
]

describe.each(['close', 'reconnect', 'connect'] as Method[])('%s() from inside a listener', (method) => {
  test.each(triggers)(`$event listener ($when): the call wins`, async ({ event, status, error, make }) => {
    const w = world()
    let called = 0
    let seenAtCall = ''
    const calledAt: number[] = []
    w.socket.on(event, (payload: any) => {
      if (called || (status && payload.status !== status) || (error && payload.name !== error)) return
      called++
      seenAtCall = w.socket.state.status
      calledAt.push(w.events.length)
      w.socket[method]()
    })
    await make(w)
    expect(called).toBe(1)
    await tick(30_000)

    if (method === 'close') {
      // Nothing the interrupted step planned happens: no attempt, no timer, no event.
      const after = w.events.slice(calledAt[0])
      expect(after.filter((e) => !e.startsWith('state'))).toEqual(seenAtCall === 'closed' ? [] : ['close:final'])
      expect(w.socket.state.status).toBe('closed')
      expect([w.live(), vi.getTimerCount(), w.env.listeners]).toEqual([0, 0, 0])
      const made = w.created.length
      await tick(120_000)
      expect(w.created.length).toBe(made)
    } else {
      // Exactly one native socket, open, and no stale timer that later kills it.
      expect([w.live(), w.socket.state.status]).toEqual([1, 'open'])
      const errors = w.events.filter((e) => e === 'error').length
      const made = w.created.length
      await tick(120_000)
      expect([w.live(), w.socket.state.status, w.created.length]).toEqual([1, 'open', made])
      expect(w.events.filter((e) => e === 'error').length).toBe(errors)
      w.socket.close()
      await tick()
      expect([w.live(), vi.getTimerCount(), w.env.listeners]).toEqual([0, 0, 0])
    }
  })
})

describe('what a listener reads', () => {
  test('a close that will reconnect is seen with the status after it and lastClose equal to it', async () => {
    const w = world()
    const seen: unknown[] = []
    w.socket.on('close', (close) => seen.push([close.willReconnect, w.socket.state.status, w.socket.state.lastClose]))
    await tick()
    w.drop()
    await tick()
    expect(seen).toEqual([[true, 'reconnecting', { code: 1006, reason: '', wasClean: false }]])
  })

  test('a close while offline is seen as offline', async () => {
    // No heartbeat here: its verifying ping's answer would prove the network up again.
    const s = setup()
    const seen: string[] = []
    s.socket.on('close', () => seen.push(s.socket.state.status))
    await tick()
    s.env.signal('offline')
    s.client().close({ code: 1006, reason: '', wasClean: false })
    await tick()
    expect(seen).toEqual(['offline'])
  })

  test('"give up after 3 retries" from a reconnecting listener stops for good', async () => {
    const w = world()
    w.socket.on('reconnecting', ({ attempt }) => attempt >= 3 && w.socket.close())
    await tick()
    w.refuse(true)
    w.drop()
    await tick(60_000)
    expect(w.socket.state).toMatchObject({ status: 'closed', attempt: 3 })
    const made = w.created.length
    await tick(600_000)
    expect([w.created.length, w.live(), vi.getTimerCount()]).toEqual([made, 0, 0])
    expect(w.events.filter((e) => !e.startsWith('state')).at(-1)).toBe('close:final')
  })

  test('reconnect() from a state listener leaves one live native socket, and none after close()', async () => {
    const w = world()
    let once = false
    w.socket.on('state', (state) => {
      if (state.status === 'open' && !once) {
        once = true
        w.socket.reconnect()
      }
    })
    await tick(1000)
    expect([w.live(), w.socket.state.status]).toEqual([1, 'open'])
    w.socket.close()
    await tick()
    expect(w.live()).toBe(0)
  })
})

describe('listeners that send', () => {
  test('a send from the error listener of a frame expired in the flush goes out in the same flush', async () => {
    const w = world()
    w.refuse(true)
    await tick()
    w.socket.send('stale')
    w.socket.on('error', (error) => error.name === 'QueueOverflowError' && w.socket.send('instead'))
    await tick(2000)
    w.refuse(false)
    await tick(5000)
    expect(w.socket.state).toMatchObject({ status: 'open', queued: 0 })
    expect(w.wire.filter((frame) => frame !== 'ping')).toEqual(['"instead"'])
  })

  test('an error listener that sends over a closed socket cannot recurse without bound', async () => {
    const w = world()
    await tick()
    w.socket.close()
    let calls = 0
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    w.socket.on('error', () => {
      calls++
      w.socket.send('again')
    })
    w.socket.send('first')
    expect(calls).toBe(1)
    expect(warn).toHaveBeenCalledTimes(1)
    warn.mockRestore()
  })

  test('a state listener that sends while not open queues one copy per real state change, not one per its own event', async () => {
    const w = world()
    w.refuse(true)
    let sends = 0
    w.socket.on('state', () => {
      if (sends >= 100) return
      sends++
      w.socket.send('status')
    })
    await tick()
    expect(sends).toBeLessThan(10)
    expect(w.socket.state.queued).toBe(sends)
  })
})

describe('signals', () => {
  test('visible and offline never postpone a running pong deadline', async () => {
    const w = world()
    await tick()
    // The server goes silent: a ping goes out at 1000 ms and its deadline is 500 ms later.
    w.silence()
    await tick(1200)
    w.env.signal('visible')
    w.env.signal('offline')
    expect(w.events).not.toContain('error')
    await tick(400)
    expect(w.events).toContain('error')
  })

  test('retryAfter is not overridden by visible or online', async () => {
    const w = world()
    await tick()
    w.client().close({ code: 1013, reason: '{"retryAfter":5000}', wasClean: false })
    await tick()
    const made = w.created.length
    w.env.signal('visible')
    w.env.signal('online')
    await tick(4000)
    expect(w.created.length).toBe(made)
    await tick(20_000)
    expect(w.socket.state.status).toBe('open')
  })
})
