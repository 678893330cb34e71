// Runs in Chromium. Every client does the same work per message: JSON-encode on send,
// JSON-decode on receive, one handler call that reads a field. Native and the peers do
// the JSON by hand; steadysocket does it in its default 'json' codec.
import { createSocket } from '/steadysocket.js'
import { PartySocketWebSocket, ReconnectingWebSocket } from '/peers.js'

const url = `ws://${location.host}/echo`
let messages = []
let expected = 0
let received = 0
let checksum = 0
let handlerMs = 0
let finish = () => {}

// Every client gets this WebSocket (steadysocket and the peers use the global one): the
// whole handler of each message event, library code included, is timed the same way.
const wrapped = new WeakMap()
const timed = (fn) => {
  let wrapper = wrapped.get(fn)
  if (!wrapper) {
    wrapper = function (event) {
      const start = performance.now()
      try {
        return typeof fn === 'function' ? fn.call(this, event) : fn.handleEvent(event)
      } finally {
        handlerMs += performance.now() - start
      }
    }
    wrapped.set(fn, wrapper)
  }
  return wrapper
}
class TimedWebSocket extends WebSocket {
  get onmessage() {
    return super.onmessage
  }
  set onmessage(fn) {
    super.onmessage = fn && timed(fn)
  }
  addEventListener(type, fn, options) {
    super.addEventListener(type, type === 'message' && fn ? timed(fn) : fn, options)
  }
  removeEventListener(type, fn, options) {
    super.removeEventListener(type, type === 'message' && fn ? timed(fn) : fn, options)
  }
}
globalThis.WebSocket = TimedWebSocket

function onMessage(message) {
  checksum += message.seq
  if (++received === expected) finish()
}

/** A WebSocket-like object with `onopen`/`onmessage` (native and both peers). */
async function plain(ws) {
  ws.onmessage = (event) => onMessage(JSON.parse(event.data))
  await new Promise((resolve, reject) => {
    ws.onopen = resolve
    ws.onerror = reject
  })
  ws.onopen = ws.onerror = null
  return (message) => ws.send(JSON.stringify(message))
}

async function steady(options) {
  const socket = createSocket(url, options)
  socket.on('message', onMessage)
  await new Promise((resolve) => {
    const off = socket.on('open', () => {
      off()
      resolve()
    })
  })
  return socket.send
}

const clients = {
  native: () => plain(new WebSocket(url)),
  steadysocket: () => steady(),
  'steadysocket+heartbeat': () => steady({ heartbeat: true }),
  'reconnecting-websocket': () => plain(new ReconnectingWebSocket(url)),
  partysocket: () => plain(new PartySocketWebSocket(url)),
}

let kinds = []
const senders = {}

/** Sends `messages[from..to)` through one client and resolves when every echo has been handled. */
async function block(kind, from, to) {
  const send = senders[kind]
  received = from
  expected = to
  const done = new Promise((resolve) => (finish = resolve))
  const start = performance.now()
  for (let i = from; i < to; i++) send(messages[i])
  const sendMs = performance.now() - start
  await done
  return sendMs
}

/**
 * A WebSocket that is open at once and goes nowhere: `send` drops the frame, messages are
 * dispatched by the caller. With it, only the client code is left to time.
 */
class StubWebSocket extends EventTarget {
  static OPEN = 1
  readyState = 1
  binaryType = 'blob'
  constructor(address) {
    super()
    this.url = String(address)
    queueMicrotask(() => this.dispatchEvent(new Event('open')))
  }
  send() {}
  close() {
    this.readyState = 3
  }
}
for (const type of ['open', 'message', 'close', 'error'])
  Object.defineProperty(StubWebSocket.prototype, `on${type}`, {
    get() {
      return this.handlers?.[type] ?? null
    },
    set(fn) {
      this.handlers ??= {}
      if (this.handlers[type]) this.removeEventListener(type, this.handlers[type])
      this.handlers[type] = fn
      if (fn) this.addEventListener(type, fn)
    },
  })

/**
 * The client's own cost with the network taken out: `count` sends and `count` received
 * messages through a stub socket, against the same JSON work done by hand on the same stub.
 * The two alternate run by run (the order flipping); returns the median over pairs of
 * (steadysocket − hand-written) and of their ratio, and each side's median, in ns per message.
 */
async function overhead(count, reps) {
  const frames = messages.slice(0, count).map((message) => JSON.stringify(message))
  const events = frames.map((data) => new MessageEvent('message', { data }))
  let stub
  const Capture = class extends StubWebSocket {
    constructor(address) {
      super(address)
      stub = this
    }
  }
  const socket = createSocket('ws://127.0.0.1/stub', { WebSocket: Capture })
  socket.on('message', onMessage)
  await new Promise((resolve) => socket.on('open', resolve))
  const steadyStub = stub
  const handStub = new StubWebSocket('ws://127.0.0.1/stub')
  handStub.onmessage = (event) => onMessage(JSON.parse(event.data))
  const sendByHand = (message) => handStub.send(JSON.stringify(message))
  const run = (ws, send) => {
    received = 0
    expected = -1
    const start = performance.now()
    for (let i = 0; i < count; i++) send(messages[i])
    for (let i = 0; i < count; i++) ws.dispatchEvent(events[i])
    const ns = ((performance.now() - start) * 1e6) / count
    if (received !== count) throw new Error(`${received} of ${count} messages delivered`)
    return ns
  }
  const pairs = []
  // The first pair warms up the JIT and is not counted.
  for (let rep = 0; rep <= reps; rep++) {
    let hand, steady
    if (rep % 2) {
      hand = run(handStub, sendByHand)
      steady = run(steadyStub, socket.send)
    } else {
      steady = run(steadyStub, socket.send)
      hand = run(handStub, sendByHand)
    }
    if (rep > 0) pairs.push({ hand, steady })
  }
  socket.close()
  const median = (values) => values.sort((a, b) => a - b)[values.length >> 1]
  return {
    native: median(pairs.map((p) => p.hand)),
    steadysocket: median(pairs.map((p) => p.steady)),
    added: median(pairs.map((p) => p.steady - p.hand)),
    ratio: median(pairs.map((p) => p.steady / p.hand)),
  }
}

window.bench = {
  overhead,
  kinds: Object.keys(clients),
  crossOriginIsolated,
  async setup(names, count) {
    kinds = names
    messages = Array.from({ length: count }, (_, seq) => ({
      type: 'tick',
      seq,
      symbol: 'ABC',
      price: 100 + (seq % 100) / 7,
      tags: ['a', 'b'],
    }))
    for (const kind of kinds) senders[kind] = await clients[kind]()
  },
  /**
   * One round: every client sends all messages, `size` at a time, the clients taking turns
   * block by block (the order rotating) so that a slow moment of the machine falls on all
   * of them alike. Returns per client, per block, the time of its sends and of its handlers.
   */
  async round(size) {
    const totals = Object.fromEntries(kinds.map((kind) => [kind, { send: [], handler: [], checksum: 0 }]))
    for (let from = 0, turn = 0; from < messages.length; from += size, turn++) {
      const to = Math.min(from + size, messages.length)
      for (let k = 0; k < kinds.length; k++) {
        const kind = kinds[(k + turn) % kinds.length]
        const total = totals[kind]
        handlerMs = 0
        checksum = 0
        total.send.push(await block(kind, from, to))
        total.handler.push(handlerMs)
        total.checksum += checksum
      }
    }
    return totals
  },
}
