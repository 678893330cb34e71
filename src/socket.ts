import { retryDelay } from './backoff'
import { retryAfter } from './close-codes'
import { check, codecs, encode, isBinary } from './codec'
import { createEmitter } from './emitter'
import { ConnectionError, MessageError, QueueOverflowError, SocketClosedError, SteadySocketError, TimeoutError } from './errors'
import { createHeartbeat } from './heartbeat'
import { normalize, produce } from './options'
import { createQueue, wireSize, type QueuedFrame } from './queue'
import { createRequests } from './requests'
import { createWarnings } from './warn'
import { hold, route, type Subscriptions } from './subscriptions'
import type { CloseInfo, Codec, EnvironmentSignal, SocketEvents, SocketOptions, SocketState, SteadySocket, WireData } from './types'

/** The native socket as used here: it accepts every `WireData`, shared buffers included. */
type NativeSocket = Omit<WebSocket, 'send'> & { send(data: WireData): void }

const noop = () => {}

/** The close reported for an attempt that ended without a close frame. */
const abnormal = (): CloseInfo => ({ code: 1006, reason: '', wasClean: false })

/**
 * Creates a WebSocket that reconnects with backoff, queues while offline, and replays
 * subscriptions; it starts connecting at once unless `lazy`.
 * @param url A URL, or a (maybe async) function called before every attempt.
 * @example
 * const socket = createSocket<ServerMessage, ClientMessage>('wss://example.com/live')
 * socket.on('message', (message) => console.log(message))
 * socket.send({ type: 'hello' })
 */
export function createSocket<In = unknown, Out = unknown>(
  url: string | URL | (() => string | URL | Promise<string | URL>),
  options?: SocketOptions<In, Out>,
): SteadySocket<In, Out> {
  const config = normalize(url, options)
  const { retry, env, log, validate, clock } = config
  const { now, setTimeout, clearTimeout } = clock
  const { maxBytes } = config.queue
  // An app codec sees every frame; with a built-in one, binary frames go to the `binary` event.
  const custom = typeof config.codec === 'object'
  const codec = custom ? (config.codec as Codec<any, any>) : codecs[config.codec as string]!
  const queue = createQueue(config.queue.maxMessages, maxBytes, config.queue.overflow === 'drop-newest', config.queue.ttl)
  const subscriptions: Subscriptions = new Map()
  const requests = createRequests(config.request.idField, config.request.timeout, clock)
  const listenerThrew = (cause: unknown) => report(new SteadySocketError('a listener threw — see cause', { cause }))
  const events = createEmitter<SocketEvents<In>>(listenerThrew)
  const emit = events.emit

  let state: SocketState = { status: 'idle', attempt: 0, retryAt: null, queued: 0, unacked: 0, rtt: null, lastClose: null, online: env.online() }
  let ws: NativeSocket | null = null
  // Bumped whenever an attempt starts or is abandoned: late results of async url
  // functions from an older attempt see a different number and are ignored.
  let generation = 0
  // One timer at a time: the connect timeout, the retry delay, or the stable-open delay.
  let timer: unknown
  let everOpened = false
  let unlisten: (() => void) | undefined
  let validating: Promise<unknown> = Promise.resolve()
  const warnings = createWarnings()

  const heartbeat =
    config.heartbeat &&
    createHeartbeat(
      config.heartbeat,
      clock,
      (data) => ws!.send(data),
      () => lost({ code: 4000, reason: 'heartbeat timeout', wasClean: false }, new TimeoutError('heartbeat timeout: no frame after a ping — does the server answer? see heartbeat.isPong')),
      (rtt) => set({ rtt }),
    )

  function set(patch: Partial<SocketState>) {
    for (const key in patch)
      if (!Object.is(patch[key as keyof SocketState], state[key as keyof SocketState])) {
        state = { ...state, ...patch }
        log?.(state.status, state.attempt)
        return emit('state', state)
      }
  }

  function report(error: SteadySocketError) {
    if (!emit('error', error as SocketEvents<In>['error'])) warnings.warn(error)
  }

  /** Lets go of the native socket at once, without waiting for its `close` event. */
  function abandon(code?: number, reason?: string) {
    generation++
    clearTimeout(timer)
    heartbeat?.stop()
    if (ws) {
      // onerror stays a no-op: Node's `ws` throws on an 'error' event with no listener.
      ws.onopen = ws.onmessage = ws.onclose = null
      try {
        ws.close(code, reason)
      } catch {
        // Already closing: it is detached either way.
      }
      ws = null
    }
  }

  /** Starts an attempt now (or settles on 'offline'). */
  function start() {
    abandon()
    if (!unlisten) {
      unlisten = env.listen(onSignal)
      // Signals are missed while not listening (lazy, or after close()): catch up once.
      set({ online: env.online() })
    }
    if (!state.online) return set({ status: 'offline', retryAt: null })
    const current = generation
    const failed = (cause: unknown) => lost(abnormal(), new ConnectionError('connect failed — see cause', { cause }))
    // A url or protocols function may be sync or async; a sync one opens the socket synchronously.
    const resolve = <T>(value: T | (() => T | Promise<T>), then: (value: T) => void) => {
      try {
        const result = produce(value)
        if (result instanceof Promise) result.then((v) => current === generation && resolve(v, then), (cause) => current === generation && failed(cause))
        else then(result)
      } catch (cause) {
        failed(cause)
      }
    }
    set({ status: 'connecting', retryAt: null })
    timer = setTimeout(() => lost(abnormal(), new TimeoutError('connect timeout — check the server or raise connectTimeout')), config.connectTimeout)
    resolve(config.url, (target) =>
      resolve(config.protocols, (protocols) => {
        const socket = (ws = new config.WebSocket(target, protocols) as NativeSocket)
        socket.binaryType = config.binaryType
        socket.onerror = noop
        socket.onmessage = (event) => received(event.data)
        socket.onclose = ({ code, reason, wasClean }) => {
          const close = { code, reason, wasClean }
          lost(close, state.status === 'open' ? undefined : new ConnectionError(`connect failed: closed with ${code} before open — check the url and server`, { close }))
        }
        socket.onopen = () => {
          clearTimeout(timer)
          // Order matters (DESIGN 5): subscriptions, then the queue, then `open`. Sends
          // made meanwhile queue behind the flushed frames: status is not 'open' yet.
          for (const { spec } of subscriptions.values()) transmit(spec.subscribe)
          const expired: QueuedFrame[] = []
          let frame
          while (ws === socket && (frame = queue.shift(now(), expired))) socket.send(frame.data)
          for (const old of expired) drop(old, 'ttl')
          if (ws === socket) {
            set({ status: 'open', queued: queue.length, online: true })
            timer = setTimeout(() => set({ attempt: 0 }), retry.stableAfter)
            heartbeat?.start()
            warnings.opened()
            emit('open', { reconnect: everOpened })
            everOpened = true
          }
        }
      }),
    )
  }

  function received(data: unknown) {
    // Any frame, a pong included, proves the network is up whatever navigator.onLine says.
    if (!state.online) set({ online: true })
    if (heartbeat?.seen(data)) return
    if (!custom && typeof data !== 'string') return emit('binary', data as ArrayBuffer | Blob)
    let value: unknown
    try {
      value = codec.decode(data as string)
    } catch (cause) {
      return report(new MessageError('decode failed — see cause', { data, cause }))
    }
    if (!validate) return deliver(value)
    // Validators may be async: one chain keeps delivery in arrival order.
    validating = validating
      .then(() => check(validate, value))
      .then(
        (result) => (result.issues ? report(new MessageError('invalid message dropped — see .issues', { data, issues: result.issues })) : deliver(result.value)),
        (cause) => report(new MessageError('validator threw — see cause', { data, cause })),
      )
  }

  function deliver(message: unknown) {
    if (!requests.settle(message)) {
      route(subscriptions, message, listenerThrew)
      emit('message', message as In)
    }
  }

  /**
   * A connection or an attempt ended without the app asking: retry with backoff, or stop.
   * `error` is what made an attempt fail; an open connection that ended reports `close`.
   */
  function lost(close: CloseInfo, error?: SteadySocketError) {
    const opened = state.status === 'open'
    abandon()
    if (error) report(error)
    let again = state.attempt < retry.maxAttempts
    if (opened) {
      try {
        again &&= config.shouldReconnect(close)
      } catch (cause) {
        listenerThrew(cause)
      }
      if (again) emit('close', { ...close, willReconnect: true })
    }
    if (!again) return stop(close)
    const lastClose = opened ? close : state.lastClose
    // Offline: no attempts and none counted until the network is back.
    if (!state.online) return set({ status: 'offline', retryAt: null, lastClose })
    const attempt = state.attempt + 1
    const delay = retryDelay(attempt, retry, retryAfter(close.reason))
    set({ status: 'reconnecting', attempt, retryAt: now() + delay, lastClose })
    emit('reconnecting', { attempt, delay })
    timer = setTimeout(start, delay)
  }

  /** Moves to 'closed': no more attempts until `connect()`. */
  function stop(close: CloseInfo) {
    abandon(close.code, close.reason)
    unlisten?.()
    unlisten = undefined
    set({ status: 'closed', retryAt: null, lastClose: close })
    requests.rejectAll(closedError())
    emit('close', { ...close, willReconnect: false })
  }

  function restart() {
    set({ attempt: 0 })
    start()
  }

  function connect() {
    if (state.status !== 'open' && state.status !== 'connecting') restart()
  }

  function onSignal(signal: EnvironmentSignal) {
    log?.(signal)
    const { status } = state
    const waiting = status === 'reconnecting' || status === 'offline'
    const active = status !== 'idle' && status !== 'closed'
    if (signal === 'offline') {
      set({ online: false })
      // Open: verify with a ping. Otherwise an attempt in flight or a retry timer is
      // abandoned, and start() settles on 'offline'.
      if (status === 'open') heartbeat?.ping()
      else if (active) start()
    } else if (signal === 'online') {
      set({ online: true })
      if (waiting) restart()
    } else if (signal === 'visible') {
      if (status === 'open') heartbeat?.ping()
      else if (state.retryAt) start()
    } else if (signal === 'pageshow') {
      if (waiting) restart()
    } else if (signal === 'pagehide' && active) {
      // Entering the back/forward cache: an open socket would make the page ineligible.
      suspend('pagehide')
      set({ status: 'reconnecting', retryAt: null })
    }
  }

  /** Closes the native socket with 1000 `reason`; an open one is reported as a close that will reconnect. */
  function suspend(reason: string) {
    const wasOpen = state.status === 'open'
    abandon(1000, reason)
    const close = { code: 1000, reason, wasClean: true }
    if (wasOpen) {
      set({ lastClose: close })
      emit('close', { ...close, willReconnect: true })
    }
  }

  function closedError(dropped?: unknown) {
    return new SocketClosedError('socket closed — call connect() to use it again', { dropped })
  }

  /** Reports a message that will not be sent; a request waiting for it rejects. */
  function discard(error: SteadySocketError, onDrop?: (error: Error) => void) {
    onDrop?.(error)
    report(error)
  }

  function drop(frame: QueuedFrame, why: string) {
    discard(new QueueOverflowError(`message dropped (queue ${why}) — see the queue option`, { dropped: frame.value }), frame.dropped)
  }

  /** Writes now when open, else queues; `true` when written now. */
  function write(data: WireData, value: unknown, onDrop?: (error: Error) => void): boolean {
    if (state.status === 'closed') {
      discard(closedError(value), onDrop)
      return false
    }
    // readyState guards the gap between a close starting and its event: such a socket
    // discards writes silently, so they are queued instead.
    if (state.status === 'open' && ws?.readyState === 1) {
      ws.send(data)
      return true
    }
    if (state.status === 'idle') restart()
    for (const out of queue.push({ data, size: maxBytes < Infinity ? wireSize(data) : 0, at: now(), value, dropped: onDrop })) drop(out, 'full')
    set({ queued: queue.length })
    return false
  }

  /** Sends a subscription's message (a value or a function) now; the socket is open. */
  function transmit(message: unknown) {
    try {
      ws!.send(encode(codec, produce(message)))
    } catch (cause) {
      report(new MessageError('subscription message failed — see cause', { data: message, cause }))
    }
  }

  for (const event in config.on) events.on(event as keyof SocketEvents, config.on[event as keyof SocketEvents] as never)
  if (!config.lazy) restart()

  return {
    get state() {
      return state
    },
    on: events.on,
    connect,
    send: (message) => write(encode(codec, message), message),
    sendRaw(data) {
      if (typeof data !== 'string' && !isBinary(data)) throw new TypeError('sendRaw: data must be a string or binary — use send() for messages')
      return write(data, data)
    },
    request(message, options) {
      if (!message || typeof message !== 'object' || isBinary(message)) return Promise.reject(new TypeError('request: the message must be an object'))
      return requests.start(message, options, (copy, onDrop) => write(encode(codec, copy), message, onDrop))
    },
    deliver: () => Promise.reject(new Error('deliver() lands with issue 10')),
    subscribe(key, spec, onMessage) {
      if (state.status === 'closed') {
        report(closedError())
        return noop
      }
      const fresh = !subscriptions.has(key)
      const release = hold(subscriptions, key, spec, onMessage)
      if (fresh && state.status === 'open') transmit(spec.subscribe)
      if (state.status === 'idle') restart()
      return () => {
        const last = release()
        if (last?.unsubscribe !== undefined && state.status === 'open') transmit(last.unsubscribe)
      }
    },
    reconnect() {
      suspend('reconnect')
      restart()
    },
    close(code = 1000, reason = '') {
      if (code !== 1000 && !(code >= 3000 && code < 5000)) throw new RangeError(`close: code ${code} — use 1000 or 3000–4999`)
      if (wireSize(reason) > 123) throw new RangeError('close: reason over 123 bytes — shorten it')
      if (state.status !== 'closed') stop({ code, reason, wasClean: true })
    },
  }
}
