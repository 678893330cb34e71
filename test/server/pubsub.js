import { WebSocket } from 'ws'

/** Events kept per topic for `from` replays; older ones are forgotten. */
const RETAINED = 1000
const MAX_DELAY = 60000

/**
 * @typedef {{ seq: number, retained: Array<{ seq: number, data: unknown }>, subscribers: Set<WebSocket> }} Topic
 */

/**
 * The `pubsub` mode protocol: subscriptions, per-topic sequence numbers with replay, a few
 * RPC methods and ping/pong. Topics outlive connections and server restarts, like a broker.
 * @param {{ isSilent: () => boolean }} options
 */
export function createPubSub({ isSilent }) {
  /** @type {Map<string, Topic>} */
  const topics = new Map()
  /** @type {Set<NodeJS.Timeout>} */
  const timers = new Set()

  /** @param {string} name */
  const topic = (name) => {
    let found = topics.get(name)
    if (!found) {
      found = { seq: 0, retained: [], subscribers: new Set() }
      topics.set(name, found)
    }
    return found
  }

  /**
   * @param {WebSocket} ws
   * @param {unknown} message a string is sent as is, anything else as JSON
   */
  const reply = (ws, message) => {
    if (ws.readyState !== WebSocket.OPEN || isSilent()) return
    ws.send(typeof message === 'string' ? message : JSON.stringify(message))
  }

  /**
   * @param {string} name
   * @param {unknown} data
   * @returns {number} the event's sequence number
   */
  const publish = (name, data) => {
    const t = topic(name)
    const event = { seq: ++t.seq, data }
    t.retained.push(event)
    if (t.retained.length > RETAINED) t.retained.shift()
    const frame = JSON.stringify({ type: 'event', topic: name, seq: event.seq, data })
    for (const ws of t.subscribers) if (ws.readyState === WebSocket.OPEN) ws.send(frame)
    return event.seq
  }

  /**
   * @param {WebSocket} ws
   * @param {Record<string, any>} msg
   */
  const call = (ws, msg) => {
    const { id, method, params } = msg
    if (method === 'echo') return reply(ws, { id, result: params })
    if (method === 'add') {
      if (!Array.isArray(params) || !params.every((n) => typeof n === 'number')) {
        return reply(ws, { id, error: 'add expects params: an array of numbers' })
      }
      return reply(ws, { id, result: params.reduce((sum, n) => sum + n, 0) })
    }
    if (method === 'delay') {
      const ms = params?.ms
      if (typeof ms !== 'number' || !(ms >= 0 && ms <= MAX_DELAY)) {
        return reply(ws, { id, error: `delay expects params.ms: a number of milliseconds from 0 to ${MAX_DELAY}` })
      }
      const timer = setTimeout(() => {
        timers.delete(timer)
        reply(ws, { id, result: params })
      }, ms)
      timers.add(timer)
      return
    }
    reply(ws, { id, error: 'unknown method' })
  }

  /**
   * Handles one frame already logged by the server. Binary frames and malformed JSON are ignored.
   * @param {WebSocket} ws
   * @param {string | Buffer} data
   * @param {boolean} binary
   */
  const handle = (ws, data, binary) => {
    if (binary) return
    if (data === 'ping') return reply(ws, 'pong')
    let msg
    try {
      msg = JSON.parse(/** @type {string} */ (data))
    } catch {
      return
    }
    if (msg === null || typeof msg !== 'object') return
    const ack = msg.id === undefined ? {} : { id: msg.id }
    switch (msg.type) {
      case 'ping':
        return reply(ws, { type: 'pong' })
      case 'subscribe': {
        if (typeof msg.topic !== 'string') return
        const t = topic(msg.topic)
        t.subscribers.add(ws)
        reply(ws, { type: 'subscribed', topic: msg.topic, ...ack })
        if (typeof msg.from === 'number') {
          for (const e of t.retained) {
            if (e.seq > msg.from) reply(ws, { type: 'event', topic: msg.topic, seq: e.seq, data: e.data })
          }
        }
        return
      }
      case 'unsubscribe':
        if (typeof msg.topic !== 'string') return
        topics.get(msg.topic)?.subscribers.delete(ws)
        return reply(ws, { type: 'unsubscribed', topic: msg.topic, ...ack })
      case 'publish': {
        if (typeof msg.topic !== 'string') return
        const seq = publish(msg.topic, msg.data)
        if (msg.id !== undefined) reply(ws, { id: msg.id, result: { topic: msg.topic, seq } })
        return
      }
    }
    if (msg.id !== undefined && typeof msg.method === 'string') call(ws, msg)
  }

  /** @param {WebSocket} ws */
  const forget = (ws) => {
    for (const t of topics.values()) t.subscribers.delete(ws)
  }

  const dispose = () => {
    for (const timer of timers) clearTimeout(timer)
    timers.clear()
  }

  return { handle, publish, forget, dispose }
}
