// @ts-check

/**
 * @typedef {{ code: number, reason: string, wasClean: boolean }} CloseInit
 * @typedef {ReturnType<typeof createFakeNetwork>} FakeNetwork
 */

/**
 * A server and network in virtual time, seen through a `WebSocket` class: every
 * constructor call is a connection attempt (timestamped); `latency` ms later it opens if
 * the server is up, else fails fast like a refused TCP connection (`error`, then `close`
 * 1006). Handlers work both as `on*` properties and through `addEventListener`.
 * @param {{ now(): number, setTimeout(fn: () => void, ms: number): unknown }} time
 * @param {{ latency?: number }} [options]
 */
export function createFakeNetwork(time, { latency = 1 } = {}) {
  let up = true
  /** @type {number[]} */
  const attempts = []
  /** @type {number[]} */
  const opens = []
  /** @type {Set<FakeWebSocket>} */
  const open = new Set()

  class FakeWebSocket extends EventTarget {
    static CONNECTING = 0
    static OPEN = 1
    static CLOSING = 2
    static CLOSED = 3
    CONNECTING = 0
    OPEN = 1
    CLOSING = 2
    CLOSED = 3
    readyState = 0
    binaryType = 'blob'
    bufferedAmount = 0
    extensions = ''
    protocol = ''
    /** @type {((event: Event) => void) | null} */
    onopen = null
    /** @type {((event: Event) => void) | null} */
    onmessage = null
    /** @type {((event: Event) => void) | null} */
    onclose = null
    /** @type {((event: Event) => void) | null} */
    onerror = null

    /** @param {string | URL} url */
    constructor(url) {
      super()
      this.url = String(url)
      attempts.push(time.now())
      time.setTimeout(() => this.settle(), latency)
    }

    settle() {
      if (this.readyState !== 0) return
      if (up) {
        this.readyState = 1
        open.add(this)
        opens.push(time.now())
        this.fire('open')
      } else {
        this.readyState = 3
        this.fire('error')
        this.fire('close', { code: 1006, reason: '', wasClean: false })
      }
    }

    send() {}

    close(code = 1000, reason = '') {
      if (this.readyState >= 2) return
      const wasOpen = this.readyState === 1
      this.readyState = 2
      open.delete(this)
      time.setTimeout(() => {
        this.readyState = 3
        this.fire('close', wasOpen ? { code, reason, wasClean: true } : { code: 1006, reason: '', wasClean: false })
      }, latency)
    }

    /** The server ends an open connection. @param {CloseInit} init */
    drop(init) {
      if (this.readyState !== 1) return
      this.readyState = 3
      open.delete(this)
      this.fire('close', init)
    }

    /** @param {string} type @param {Partial<CloseInit>} [init] */
    fire(type, init) {
      const event = Object.assign(new Event(type), init)
      const handler = /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (this))[`on${type}`]
      if (typeof handler === 'function') handler.call(this, event)
      this.dispatchEvent(event)
    }
  }

  return {
    WebSocket: FakeWebSocket,
    /** Timestamps of every connection attempt, in order. */
    attempts,
    /** Timestamps of every successful open, in order. */
    opens,
    get open() {
      return open.size
    },
    get up() {
      return up
    },
    set up(value) {
      up = value
    },
    /**
     * Ends every open connection at once.
     * @param {(index: number) => CloseInit} closeFor the close each client sees
     */
    dropAll(closeFor) {
      let index = 0
      // drop() deletes from the set being iterated, which a Set allows.
      for (const socket of open) socket.drop(closeFor(index++))
    },
  }
}
