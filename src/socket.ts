import { backoffDelay } from './backoff'
import { retryAfter } from './close-codes'
import { check, createCodec, isBinary } from './codec'
import { createEmitter } from './emitter'
import {
  ConnectionError,
  MessageError,
  QueueOverflowError,
  SocketClosedError,
  SteadySocketError,
  TimeoutError,
} from './errors'
import { createHeartbeat } from './heartbeat'
import { normalize } from './options'
import { createQueue, wireSize, type QueuedFrame } from './queue'
import { createRequests } from './requests'
import { createSubscriptions } from './subscriptions'
import type { CloseInfo, EnvironmentSignal, SocketEvents, SocketOptions, SocketState, SteadySocket, WireData } from './types'

/** The native socket as used here: it accepts every `WireData`, shared buffers included. */
type NativeSocket = Omit<WebSocket, 'send'> & { send(data: WireData): void }

const noop = () => {}

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
  const { retry, env, now, log, validate, setTimeout, clearTimeout } = config
  const { maxMessages, maxBytes, overflow, ttl } = config.queue
  const codec = createCodec(config.codec)
  const queue = createQueue(maxMessages, maxBytes, overflow === 'drop-newest', ttl)
  const subscriptions = createSubscriptions()
  const requests = createRequests(config.request.idField, config.request.timeout, config)
  const listenerThrew = (cause: unknown) => report(new SteadySocketError('a listener threw — see cause', { cause }))
  const events = createEmitter<SocketEvents<In>>(listenerThrew)
  const emit = events.emit

  let state: SocketState = { status: 'idle', attempt: 0, retryAt: null, queued: 0, rtt: null, lastClose: null, online: env.online() }
  let ws: NativeSocket | null = null
  // Bumped whenever an attempt starts or is abandoned: late results of async url
  // functions from an older attempt see a different number and are ignored.
  let generation = 0
  let everOpened = false
  let waitTimer: unknown
  let stableTimer: unknown
  let serverDelay: number | undefined
  let unlisten: (() => void) | undefined
  let validating: Promise<unknown> = Promise.resolve()
  let warned: unknown

  const heartbeat =
    config.heartbeat &&
    createHeartbeat(
      config.heartbeat,
      config,
      (data) => ws!.send(data),
      () => {
        report(new TimeoutError('heartbeat timeout: no frame after a ping — does the server answer? see heartbeat.isPong'))
        abandon()
        dropped({ code: 4000, reason: 'heartbeat timeout', wasClean: false })
      },
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
    if (!events.has('error') && !warned) {
      warned = true
      console.warn('[steadysocket]', error.message, '(shown once: listen to "error")')
    }
    emit('error', error as SocketEvents<In>['error'])
  }

  /** Lets go of the native socket at once, without waiting for its `close` event. */
  function abandon(code?: number, reason?: string) {
    generation++
    clearTimeout(waitTimer)
    clearTimeout(stableTimer)
    heartbeat?.stop()
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null
      // Node's `ws` throws on an 'error' event with no listener: keep a silent one.
      ws.onerror = noop
      try {
        ws.close(code, reason)
      } catch {
        // Already closing: it is detached either way.
      }
      ws = null
    }
  }

  function attempt() {
    abandon()
    if (!unlisten) {
      unlisten = env.listen(onSignal)
      // Signals are missed while not listening (lazy, or after close()): catch up once.
      set({ online: env.online() })
    }
    if (!state.online) return set({ status: 'offline', retryAt: null })
    const current = generation
    set({ status: 'connecting', retryAt: null })
    waitTimer = setTimeout(() => fail(new TimeoutError('connect timeout — check the server or raise connectTimeout')), config.connectTimeout)
    const resolve = <T>(value: T | (() => T | Promise<T>), then: (value: T) => void) => {
      try {
        const result = typeof value === 'function' ? (value as () => T)() : value
        if (result instanceof Promise) result.then((v) => current === generation && resolve(v, then), (cause) => current === generation && failResolve(cause))
        else then(result)
      } catch (cause) {
        failResolve(cause)
      }
    }
    resolve(config.url, (target) =>
      resolve(config.protocols, (protocols) => {
        const socket = (ws = new config.WebSocket(target, protocols) as NativeSocket)
        socket.binaryType = config.binaryType
        socket.onerror = noop
        socket.onmessage = (event) => received(event.data)
        socket.onclose = ({ code, reason, wasClean }) => {
          const close = { code, reason, wasClean }
          const wasOpen = state.status === 'open'
          abandon()
          if (wasOpen) dropped(close)
          else fail(new ConnectionError(`connect failed: closed with ${code} before open — check the url and server`, { close }))
        }
        socket.onopen = () => {
          clearTimeout(waitTimer)
          // Order matters (DESIGN 5): subscriptions, then the queue, then `open`. Sends
          // made meanwhile queue behind the flushed frames: status is not 'open' yet.
          for (const { spec } of subscriptions.entries.values()) transmit(spec.subscribe)
          const expired: QueuedFrame[] = []
          let frame
          while (ws === socket && (frame = queue.shift(now(), expired))) socket.send(frame.data)
          for (const old of expired) drop(old, 'ttl')
          if (ws !== socket) return
          set({ status: 'open', queued: queue.length, online: true })
          stableTimer = setTimeout(() => set({ attempt: 0 }), retry.stableAfter)
          heartbeat?.start()
          emit('open', { reconnect: everOpened })
          everOpened = true
        }
      }),
    )
  }

  function failResolve(cause: unknown) {
    fail(new ConnectionError('connect failed — see cause', { cause }))
  }

  function received(data: unknown) {
    // Any frame, a pong included, proves the network is up whatever navigator.onLine says.
    if (!state.online) set({ online: true })
    if (heartbeat?.seen(data)) return
    if (!codec.custom && typeof data !== 'string') return emit('binary', data as ArrayBuffer | Blob)
    let value: unknown
    try {
      value = codec.decode(data)
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
      subscriptions.route(message, listenerThrew)
      emit('message', message as In)
    }
  }

  /** An open connection ended without the app asking. */
  function dropped(close: CloseInfo) {
    let again = state.attempt < retry.maxAttempts
    try {
      again &&= config.shouldReconnect(close)
    } catch (cause) {
      listenerThrew(cause)
    }
    serverDelay = retryAfter(close.reason)
    emit('close', { ...close, willReconnect: again })
    if (again) retryLater(close)
    else stop(close)
  }

  /** An attempt that never opened failed. */
  function fail(error: SteadySocketError) {
    abandon()
    report(error)
    if (state.attempt < retry.maxAttempts) return retryLater(state.lastClose)
    const close = (error as ConnectionError).close ?? { code: 1006, reason: '', wasClean: false }
    stop(close)
    emit('close', { ...close, willReconnect: false })
  }

  function retryLater(lastClose: CloseInfo | null) {
    if (!state.online) return set({ status: 'offline', retryAt: null, lastClose })
    const attempt_ = state.attempt + 1
    const delay = Math.min(serverDelay ?? backoffDelay(attempt_, retry), retry.maxDelay)
    serverDelay = undefined
    set({ status: 'reconnecting', attempt: attempt_, retryAt: now() + delay, lastClose })
    emit('reconnecting', { attempt: attempt_, delay })
    waitTimer = setTimeout(attempt, delay)
  }

  /** Moves to 'closed': no more attempts until `connect()`. */
  function stop(close: CloseInfo) {
    abandon()
    unlisten?.()
    unlisten = undefined
    set({ status: 'closed', retryAt: null, lastClose: close })
    requests.rejectAll(new SocketClosedError(`socket closed (${close.code})`))
  }

  function restart() {
    set({ attempt: 0 })
    attempt()
  }

  function onSignal(signal: EnvironmentSignal) {
    log?.(signal)
    const { status } = state
    const waiting = status === 'reconnecting' || status === 'offline'
    if (signal === 'offline') {
      set({ online: false })
      if (status === 'open') heartbeat?.ping()
      else if (status === 'connecting' || status === 'reconnecting') {
        abandon()
        set({ status: 'offline', retryAt: null })
      }
    } else if (signal === 'online') {
      set({ online: true })
      if (waiting) restart()
    } else if (signal === 'visible') {
      if (status === 'open') heartbeat?.ping()
      else if (state.retryAt) attempt()
    } else if (signal === 'pageshow') {
      if (waiting) restart()
    } else if (signal === 'pagehide' && status !== 'closed' && status !== 'idle') {
      // Entering the back/forward cache: an open socket would make the page ineligible.
      suspend('pagehide')
      set({ status: 'reconnecting', retryAt: null })
    }
  }

  /** Closes the native socket with 1000 `reason` and reports it as a close that will reconnect. */
  function suspend(reason: string) {
    const wasOpen = state.status === 'open'
    abandon(1000, reason)
    const close = { code: 1000, reason, wasClean: true }
    if (wasOpen) {
      set({ lastClose: close })
      emit('close', { ...close, willReconnect: true })
    }
  }

  function drop(frame: QueuedFrame, why: string) {
    const error = new QueueOverflowError(`message dropped (queue ${why}) — see the queue option`, { dropped: frame.value })
    frame.dropped?.(error)
    report(error)
  }

  /** Writes now when open, else queues; `true` when written now. */
  function write(data: WireData, value: unknown, onDrop?: (error: Error) => void): boolean {
    if (state.status === 'closed') {
      report(new SocketClosedError('send failed: socket closed — call connect()', { dropped: value }))
      return false
    }
    // readyState guards the gap between a close starting and its event: such a socket
    // discards writes silently, so they are queued instead.
    if (state.status === 'open' && ws!.readyState === 1) {
      ws!.send(data)
      return true
    }
    if (state.status === 'idle') connect()
    for (const out of queue.push({ data, size: maxBytes < Infinity ? wireSize(data) : 0, at: now(), value, dropped: onDrop })) drop(out, 'full')
    set({ queued: queue.length })
    return false
  }

  /** Sends a subscription's message (a value or a function) now; the socket is open. */
  function transmit(message: unknown) {
    try {
      ws!.send(codec.encode(typeof message === 'function' ? message() : message))
    } catch (error) {
      report(error instanceof SteadySocketError ? error : new MessageError('subscribe message threw — see cause', { data: message, cause: error }))
    }
  }

  function connect() {
    if (state.status !== 'open' && state.status !== 'connecting') restart()
  }

  for (const [event, listener] of Object.entries(config.on)) events.on(event as keyof SocketEvents, listener as never)
  if (!config.lazy) connect()

  return {
    get state() {
      return state
    },
    on: events.on,
    connect,
    send: (message) => write(codec.encode(message), message),
    sendRaw(data) {
      if (typeof data !== 'string' && !isBinary(data)) throw new TypeError('sendRaw: data must be a string or binary — use send()')
      return write(data, data)
    },
    request(message, options) {
      if (!message || typeof message !== 'object' || isBinary(message)) return Promise.reject(new TypeError('request: the message must be an object'))
      if (state.status === 'closed') {
        const error = new SocketClosedError('request failed: socket closed — call connect()', { dropped: message })
        report(error)
        return Promise.reject(error)
      }
      return requests.start(message, options, (copy, onDrop) => write(codec.encode(copy), copy, onDrop))
    },
    subscribe(key, spec, onMessage) {
      if (state.status === 'closed') {
        report(new SocketClosedError('subscribe failed: socket closed — call connect()'))
        return noop
      }
      const { fresh, release } = subscriptions.add(key, spec, onMessage)
      if (fresh && state.status === 'open') transmit(spec.subscribe)
      if (state.status === 'idle') connect()
      return () => {
        const last = release()
        if (last?.unsubscribe !== undefined && state.status === 'open') transmit(last.unsubscribe)
      }
    },
    reconnect() {
      if (state.status === 'open' || state.status === 'connecting') {
        suspend('reconnect')
        restart()
      } else connect()
    },
    close(code = 1000, reason = '') {
      if (code !== 1000 && !(code >= 3000 && code < 5000)) throw new RangeError(`close: code ${code} — use 1000 or 3000–4999`)
      if (wireSize(reason) > 123) throw new RangeError('close: reason over 123 bytes')
      if (state.status !== 'closed') {
        abandon(code, reason)
        const close = { code, reason, wasClean: true }
        stop(close)
        emit('close', { ...close, willReconnect: false })
      }
    },
  }
}
