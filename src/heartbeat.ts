import type { WireData } from './types'

export interface HeartbeatConfig {
  interval: number
  timeout: number
  ping: () => WireData
  isPong: ((data: unknown) => boolean) | undefined
}

export interface Clock {
  now(): number
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(id: unknown): void
}

export interface Heartbeat {
  start(): void
  stop(): void
  /** Sends a ping now (to verify the connection) if running. */
  ping(): void
  /** Records an incoming frame; returns `true` when it is a pong. */
  seen(data: unknown): boolean
}

/**
 * Pings after `interval` of silence and calls `dead` when nothing arrives within
 * `timeout` of a ping. Deadlines come from timestamps, not from counting timer
 * callbacks, because hidden tabs throttle timers.
 */
export function createHeartbeat(
  config: HeartbeatConfig,
  clock: Clock,
  send: (data: WireData) => void,
  dead: () => void,
  rtt: (ms: number) => void,
): Heartbeat {
  const { interval, timeout } = config
  let timer: unknown
  let due = 0
  let lastSeen = 0
  let pingAt = 0
  let awaiting = false
  let graced = false
  let running = false
  let lastPing: WireData | undefined

  const schedule = (at: number) => {
    clock.clearTimeout(timer)
    due = at
    timer = clock.setTimeout(tick, at - clock.now())
  }
  const ping = () => {
    pingAt = clock.now()
    awaiting = true
    lastPing = config.ping()
    send(lastPing)
    schedule(pingAt + timeout)
  }
  function tick() {
    const now = clock.now()
    if (!awaiting) return now - lastSeen < interval ? schedule(lastSeen + interval) : ping()
    if (now - pingAt < timeout) return schedule(pingAt + timeout)
    // A timer that fired far past its time means a frozen or throttled page: frames that
    // arrived meanwhile may not have been dispatched yet, so give the server one fresh ping.
    if (now - due > timeout && !graced) {
      graced = true
      return ping()
    }
    running = false
    dead()
  }
  return {
    start() {
      running = true
      awaiting = graced = false
      lastSeen = clock.now()
      schedule(lastSeen + interval)
    },
    stop() {
      running = false
      clock.clearTimeout(timer)
    },
    ping: () => running && ping(),
    seen(data) {
      lastSeen = clock.now()
      const pong = config.isPong ? config.isPong(data) : data === 'pong' || (typeof lastPing === 'string' && data === lastPing)
      if (pong && awaiting) rtt(lastSeen - pingAt)
      awaiting = graced = false
      return pong
    },
  }
}
