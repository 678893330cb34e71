import type { Clock } from './clock'
import type { WireData } from './types'

export interface HeartbeatConfig {
  interval: number
  timeout: number
  mode: 'idle' | 'always'
  ping: WireData | (() => WireData)
  isPong?: (data: unknown) => boolean
}

export interface Heartbeat {
  /** Starts on a new connection; `verify` pings at once (the open handshake waits for the answer). */
  start(verify?: boolean): void
  stop(): void
  /** Pings now unless a ping is already waiting: a running deadline is never postponed. */
  ping(): void
  /** On wake-ups and sends: declares the connection dead when its deadline passed, pings when overdue (after a sleep). */
  check(): void
  /** Records an incoming frame; returns `true` when it is a pong. */
  seen(data: unknown): boolean
}

/**
 * Pings after `interval` of silence (or every `interval` with `mode: 'always'`) and calls
 * `dead` when nothing arrives within `timeout` of a ping. Every timer is one-shot and armed
 * from an event (open, an incoming frame, a ping sent); deadlines are wall-clock times,
 * because hidden pages throttle chained timers to one a minute.
 */
export function createHeartbeat(
  { interval, timeout, mode, ping, isPong }: HeartbeatConfig,
  { now, setTimeout, clearTimeout }: Clock,
  send: (data: WireData) => void,
  dead: () => void,
  rtt: (ms: number) => void,
  report: (error: unknown) => void,
): Heartbeat {
  let timer: unknown
  let armedAt = 0
  let lastSeen = 0
  // When the unanswered ping was sent; 0 when none is.
  let pingAt = 0
  let graced = false
  let running = false
  let lastPing: WireData | undefined

  // Callbacks (send, rtt, report) may stop the heartbeat: a stopped one arms nothing.
  const arm = (ms: number) => {
    clearTimeout(timer)
    armedAt = now()
    if (running) timer = setTimeout(fire, ms)
  }
  const sendPing = () => {
    try {
      send((lastPing = typeof ping === 'function' ? ping() : ping))
      pingAt = now()
      arm(timeout)
    } catch (error) {
      // A ping function that throws skips this ping, not the heartbeat.
      report(error)
      arm(interval)
    }
  }
  function fire() {
    if (!pingAt) return sendPing()
    // Fired far past its time: the page was frozen or throttled, and frames that arrived
    // meanwhile may not have been dispatched yet, so give the server one fresh ping.
    if (now() - pingAt > 2 * timeout && !graced) {
      graced = true
      return sendPing()
    }
    dead()
  }
  return {
    start(verify) {
      running = true
      pingAt = 0
      graced = false
      lastSeen = now()
      if (verify) sendPing()
      else arm(interval)
    },
    stop() {
      running = false
      clearTimeout(timer)
    },
    ping: () => pingAt || sendPing(),
    check() {
      const time = now()
      // On wake-ups: a deadline that passed while asleep is dead now (no grace ping).
      if (pingAt ? time - pingAt <= timeout : time - lastSeen <= interval) return
      if (pingAt) dead()
      else sendPing()
    },
    seen(data) {
      const time = (lastSeen = now())
      let pong = false
      try {
        pong = isPong ? isPong(data) : data === 'pong' || (typeof lastPing === 'string' && data === lastPing)
      } catch (error) {
        report(error)
      }
      if (pingAt) {
        const sent = pingAt
        pingAt = 0
        graced = false
        // Any frame proves the connection alive; 'always' keeps its period from the last ping.
        arm(mode === 'always' ? Math.max(0, sent + interval - time) : interval)
        if (pong) rtt(time - sent)
      } else if (mode !== 'always' && time - armedAt >= interval / 2) {
        // Re-armed at most twice an interval, not on every frame: with steady traffic no
        // ping is sent, and after silence the ping goes out between interval/2 and interval.
        arm(interval)
      }
      return pong
    },
  }
}
