import type { WireData } from './types'

export interface HeartbeatConfig {
  interval: number
  timeout: number
  ping: WireData | (() => WireData)
  isPong?: (data: unknown) => boolean
}

/** Time sources; their functions are called detached, so the natives need no binding. */
export interface Clock {
  now(): number
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(id: unknown): void
}

export interface Heartbeat {
  start(): void
  stop(): void
  /** Sends a ping now (to verify the connection); only while started. */
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
  { interval, timeout, ping, isPong }: HeartbeatConfig,
  { now, setTimeout, clearTimeout }: Clock,
  send: (data: WireData) => void,
  dead: () => void,
  rtt: (ms: number) => void,
): Heartbeat {
  let timer: unknown
  let due = 0
  let lastSeen = 0
  // When the unanswered ping was sent; 0 when none is.
  let pingAt = 0
  let graced = false
  let lastPing: WireData | undefined

  const schedule = (at: number) => {
    clearTimeout(timer)
    due = at
    timer = setTimeout(tick, at - now())
  }
  const sendPing = () => {
    pingAt = now()
    send((lastPing = typeof ping === 'function' ? ping() : ping))
    schedule(pingAt + timeout)
  }
  function tick() {
    const time = now()
    if (!pingAt) {
      if (time - lastSeen < interval) schedule(lastSeen + interval)
      else sendPing()
    } else if (time - pingAt < timeout) schedule(pingAt + timeout)
    // A timer that fired far past its time means a frozen or throttled page: frames that
    // arrived meanwhile may not have been dispatched yet, so give the server one fresh ping.
    else if (time - due > timeout && !graced) {
      graced = true
      sendPing()
    } else dead()
  }
  return {
    start() {
      pingAt = 0
      graced = false
      lastSeen = now()
      schedule(lastSeen + interval)
    },
    stop: () => clearTimeout(timer),
    ping: sendPing,
    seen(data) {
      lastSeen = now()
      const pong = isPong ? isPong(data) : data === 'pong' || (typeof lastPing === 'string' && data === lastPing)
      if (pong && pingAt) rtt(lastSeen - pingAt)
      pingAt = 0
      graced = false
      return pong
    },
  }
}
