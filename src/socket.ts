import { retryDelay } from './backoff'
import { safeClock } from './clock'
import { isFatalClose, retryAfter } from './close-codes'
import { check, codecs, encode, isBinary } from './codec'
import { createEmitter } from './emitter'
import { ConnectionError, MessageError, QueueOverflowError, SocketClosedError, SteadySocketError, StorageError, TimeoutError } from './errors'
import { createHeartbeat } from './heartbeat'
import { normalize, produce, toWebSocketUrl } from './options'
import { createQueue, wireSize, type QueuedFrame } from './queue'
import { createRequests } from './requests'
import { hold, route, type Subscriptions } from './subscriptions'
import type { CloseInfo, Codec, EnvironmentSignal, OutboxRecord, SocketEvents, SocketOptions, SocketState, SteadySocket, WireData } from './types'
import { createWarnings } from './warn'

/** The native socket as used here: it accepts every `WireData`, shared buffers included. */
type NativeSocket = Omit<WebSocket, 'send'> & { send(data: WireData): void }

const noop = () => {}

/** The close reported for an attempt that ended without a close frame. */
const abnormal = (): CloseInfo => ({ code: 1006, reason: '', wasClean: false })

/** An error's own words, for messages that must carry them (DESIGN 7). */
const why = (cause: any) => String(cause?.message ?? cause)

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
  const { retry, env, log, validate, delivery } = config
  const clock = safeClock(config.clock)
  const { now, setTimeout, clearTimeout } = clock
  const { maxBytes, ttl, store } = config.queue
  // An app codec sees every frame; with a built-in one, binary frames go to the `binary` event.
  const custom = typeof config.codec === 'object'
  const codec = custom ? (config.codec as Codec<any, any>) : codecs[config.codec as string]!
  const queue = createQueue(config.queue.maxMessages, maxBytes, config.queue.overflow === 'drop-newest')
  const subscriptions: Subscriptions = new Map()
  const report = (error: unknown) =>
    raise(error instanceof SteadySocketError ? error : new SteadySocketError(`a callback threw: ${why(error)} — see cause`, { cause: error }))
  const requests = createRequests(config.request.idField, clock, delivery.isAck, report)
  const events = createEmitter<SocketEvents<In>>(report)
  const emit = events.emit
  const warnings = createWarnings()

  let state: SocketState = { status: 'idle', attempt: 0, retryAt: null, queued: 0, unacked: 0, rtt: null, lastClose: null, online: env.online() }
  let ws: NativeSocket | null = null
  // Bumped by every transition (an attempt starts, a connection ends, close()). A step that
  // emitted an event compares it with the value it started with: a listener may have called
  // close(), connect() or reconnect(), and then nothing the step had planned may happen.
  let epoch = 0
  // One timer at a time: the connect timeout, the retry delay, or the stable-open delay.
  let timer: unknown
  let everOpened = false
  let unlisten: (() => void) | undefined
  // Incoming frames wait here while an async validation runs, so delivery keeps arrival order.
  let validating: Promise<unknown> | undefined
  let seq = 0
  // Deliveries written on this connection and not yet acknowledged.
  let inFlight = 0
  // Frames `send` wrote since the browser's buffer was last seen empty: those it had not
  // transmitted when the connection died go back to the queue.
  let buffered: QueuedFrame[] = []
  // When the connection was lost (or the first attempt began), for `maxElapsed`.
  let lostAt: number | undefined
  // The server's `retryAfter`: no attempt before this time, whatever signal arrives.
  let notBefore = 0
  let resumed = false
  // The open sequence runs once per connection.
  let opening = false
  let inStateEmit = false
  let inErrorEmit = false
  // The store's frames from earlier pages, prepended once before the first flush.
  let adopting: Promise<void> | undefined
  let adopted = !store

  const heartbeat =
    config.heartbeat &&
    createHeartbeat(
      config.heartbeat,
      clock,
      (data) => ws!.send(data),
      () => lost({ code: 4000, reason: 'heartbeat timeout', wasClean: false }, new TimeoutError('heartbeat timeout: no frame after a ping — does the server answer it? see heartbeat.isPong')),
      (rtt) => set({ rtt }),
      report,
    )

  function set(patch: Partial<SocketState>) {
    for (const key in patch)
      if (!Object.is(patch[key as keyof SocketState], state[key as keyof SocketState])) {
        state = { ...state, ...patch }
        // A state listener that sends while not open changes `queued`: folded into the
        // snapshot, not announced again from inside its own event (that would never end).
        if (inStateEmit) return
        log?.(state.status, `attempt ${state.attempt}`, state.lastClose ? `last close ${state.lastClose.code} ${state.lastClose.reason}` : '')
        inStateEmit = true
        try {
          emit('state', state)
        } finally {
          inStateEmit = false
        }
        return
      }
  }

  const counts = () => ({ queued: queue.waiting(), unacked: inFlight })

  function raise(error: SteadySocketError) {
    log?.('error', error.message)
    // An error raised by an error listener's own call goes to the console, not back to it.
    if (inErrorEmit) return warnings.warn(error)
    inErrorEmit = true
    try {
      if (!emit('error', error as SocketEvents<In>['error'])) warnings.warn(error)
    } finally {
      inErrorEmit = false
    }
  }

  /** Lets go of the native socket at once, without waiting for its `close` event. */
  function abandon(code?: number, reason?: string) {
    epoch++
    opening = false
    clearTimeout(timer)
    heartbeat?.stop()
    if (ws) {
      requeue(ws.bufferedAmount)
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

  /** Puts back what a dead connection had not transmitted: the newest `bytes` of `send` frames, and every unacknowledged delivery. */
  function requeue(bytes: number) {
    const back: QueuedFrame[] = []
    for (let i = buffered.length; bytes > 0 && i--; ) {
      const frame = buffered[i]!
      bytes -= wireSize(frame.data)
      back.push(frame)
    }
    queue.restore(back)
    for (const frame of back) persist(frame)
    buffered = []
    for (const frame of queue.frames) frame.sent = false
    inFlight = 0
  }

  /** Starts an attempt now (or settles on 'offline'); `fresh` resets the backoff. */
  function start(fresh?: boolean) {
    abandon()
    const mine = epoch
    if (fresh) lostAt = undefined
    if (!unlisten) {
      unlisten = env.listen(onSignal)
      // Signals are missed while not listening (lazy, or after close()): catch up once.
      set({ online: env.online() })
      if (mine !== epoch) return
    }
    lostAt ??= now()
    if (now() - lostAt >= retry.maxElapsed) return stop(state.lastClose ?? abnormal(), new ConnectionError(`gave up: no open connection for ${retry.maxElapsed} ms (retry.maxElapsed)`))
    if (!state.online) return set({ status: 'offline', retryAt: null, ...(fresh && { attempt: 0 }) })
    // Back online before the server's retryAfter: wait for it.
    if (now() < notBefore) {
      timer = setTimeout(start, notBefore - now())
      return set({ status: 'reconnecting', retryAt: notBefore })
    }
    timer = setTimeout(() => lost(abnormal(), new TimeoutError(`connect timeout: still connecting after ${config.connectTimeout} ms — check the server, or raise connectTimeout`)), config.connectTimeout)
    set({ status: 'connecting', retryAt: null, ...(fresh && { attempt: 0 }) })
    if (mine !== epoch) return
    const failed = (cause: unknown) => lost(abnormal(), new ConnectionError(`connect failed: ${why(cause)} — check the url and protocols options`, { cause }))
    // A url or protocols function may be sync or async; a sync one opens the socket synchronously.
    const resolve = <T>(value: T | (() => T | Promise<T>), then: (value: T) => void) => {
      try {
        const result = produce(value)
        if (result instanceof Promise) result.then((v) => mine === epoch && resolve(v, then), (cause) => mine === epoch && failed(cause))
        else then(result)
      } catch (cause) {
        failed(cause)
      }
    }
    resolve(config.url, (target) =>
      resolve(config.protocols, (protocols) => {
        const socket = (ws = new config.WebSocket(toWebSocketUrl(target), protocols) as NativeSocket)
        socket.binaryType = config.binaryType
        socket.onerror = noop
        socket.onmessage = (event) => received(event.data)
        socket.onclose = ({ code, reason, wasClean }) => {
          const close = { code, reason, wasClean }
          lost(close, state.status === 'open' ? undefined : new ConnectionError(`connect failed: closed with ${code} ${reason} before open — check the url and the server`, { close }))
        }
        socket.onopen = () => {
          clearTimeout(timer)
          // With the heartbeat, the queue waits for one round trip: a connection that dies as
          // it opens (a server that crashes on accept, a proxy that resets) takes nothing with it.
          if (heartbeat) heartbeat.start(true)
          else opened()
        }
      }),
    )
  }

  /** The open sequence (DESIGN 5): the store's frames of earlier pages, subscriptions, then the queue, then `open`. */
  function opened() {
    if (opening) return
    opening = true
    const mine = epoch
    if (adopted) return flush()
    adopting ??= store!.adopt().then(adopt, (cause) => report(new StorageError(`outbox store failed: ${why(cause)} — going on in memory`, { cause })))
    void adopting.then(() => {
      adopted = true
      if (mine === epoch) flush()
    })
  }

  function flush() {
    const mine = epoch
    for (const { spec } of subscriptions.values()) {
      transmit(spec.subscribe)
      if (mine !== epoch) return
    }
    // Status is not 'open' yet: sends made by listeners meanwhile queue behind and go out in this flush.
    pump()
    if (mine !== epoch) return
    timer = setTimeout(() => set({ attempt: 0 }), retry.stableAfter)
    lostAt = undefined
    notBefore = 0
    set({ status: 'open', online: true, ...counts() })
    if (mine !== epoch) return
    warnings.opened()
    emit('open', { reconnect: everOpened })
    everOpened = true
  }

  function received(data: unknown) {
    const mine = epoch
    resumed = false
    // Any frame, a pong included, proves the network is up whatever navigator.onLine says.
    if (!state.online) set({ online: true })
    const pong = heartbeat?.seen(data)
    // The answer to the ping of the open handshake.
    if (state.status === 'connecting' && ws?.readyState === 1) opened()
    if (pong || mine !== epoch) return
    if (!custom && typeof data !== 'string') return inOrder(mine, () => emit('binary', data as ArrayBuffer | Blob))
    let value: unknown
    try {
      value = codec.decode(data as string)
    } catch (cause) {
      return report(new MessageError(`decode failed: ${why(cause)} — the frame is in .data`, { data, cause }))
    }
    if (!validate) return inOrder(mine, () => accept(value))
    let result
    try {
      result = check(validate, value)
    } catch (cause) {
      return report(new MessageError(`validator threw: ${why(cause)} — the frame is in .data`, { data, cause }))
    }
    const settled = (checked: Awaited<typeof result>) =>
      checked.issues ? report(new MessageError(`invalid message dropped: ${JSON.stringify(checked.issues.map((issue: any) => issue.message ?? issue))} — see .issues`, { data, issues: checked.issues })) : accept(checked.value)
    if (!(result instanceof Promise)) return inOrder(mine, () => settled(result))
    // A validator that never settles must not stall the frames behind it.
    let limit: unknown
    const done = Promise.race([
      result,
      new Promise<never>((_, reject) => (limit = setTimeout(() => reject(new Error(`no result in ${config.request.timeout} ms`)), config.request.timeout))),
    ]).finally(() => clearTimeout(limit))
    inOrder(mine, () =>
      done.then(
        (checked) => mine === epoch && settled(checked),
        (cause) => mine === epoch && report(new MessageError(`validator failed: ${why(cause)} — the frame is in .data`, { data, cause })),
      ),
    )
  }

  /** Runs `step` now, or after the validations in progress; never after the connection ended. */
  function inOrder(mine: number, step: () => unknown) {
    const run = () => mine === epoch && step()
    const result = validating ? validating.then(run) : run()
    if (result instanceof Promise) {
      const chain: Promise<unknown> = (validating = result.finally(() => validating === chain && (validating = undefined)))
    }
  }

  function accept(message: unknown) {
    if (requests.settle(message)) return
    route(subscriptions, message, report)
    emit('message', message as In)
  }

  /**
   * A connection or an attempt ended without the app asking: retry with backoff, or stop.
   * `error` is what made an attempt fail; an open connection that ended reports `close`.
   */
  function lost(close: CloseInfo, error?: SteadySocketError) {
    const opened = state.status === 'open'
    abandon()
    const mine = epoch
    lostAt ??= now()
    let again = state.attempt < retry.maxAttempts && now() - lostAt < retry.maxElapsed
    if (opened)
      try {
        again &&= config.shouldReconnect(close)
      } catch (cause) {
        report(cause)
        again &&= !isFatalClose(close)
      }
    if (!again)
      return stop(
        close,
        error ??
          new ConnectionError(
            `stopped: the server closed with ${close.code} ${close.reason} — ${state.attempt < retry.maxAttempts ? 'shouldReconnect said no (see isFatalClose)' : 'no retries left (retry.maxAttempts)'}`,
            { close },
          ),
      )
    const lastClose = opened ? close : state.lastClose
    const attempt = state.attempt + 1
    let delay = 0
    if (!state.online) set({ status: 'offline', retryAt: null, lastClose, ...counts() })
    else {
      const hint = retryAfter(close.reason)
      delay = retryDelay(attempt, retry, hint)
      notBefore = hint === undefined ? 0 : now() + Math.min(hint, retry.maxDelay)
      // A page just resumed from a freeze gets its socket failed by the browser: a local
      // event, not a server in trouble, so the attempt goes out at once.
      if (resumed && !notBefore) delay = 0
      timer = setTimeout(start, Math.min(delay, lostAt + retry.maxElapsed - now()))
      set({ status: 'reconnecting', attempt, retryAt: now() + delay, lastClose, ...counts() })
    }
    if (mine !== epoch) return
    if (error) report(error)
    if (mine !== epoch) return
    if (opened) emit('close', { ...close, willReconnect: true })
    if (mine === epoch && state.status === 'reconnecting') emit('reconnecting', { attempt, delay })
  }

  /** Moves to 'closed': no more attempts until `connect()`. */
  function stop(close: CloseInfo, error?: SteadySocketError) {
    abandon(close.code, close.reason)
    const mine = epoch
    unlisten?.()
    unlisten = undefined
    lostAt = undefined
    set({ status: 'closed', retryAt: null, lastClose: close, ...counts() })
    requests.rejectAll(closedError())
    if (mine !== epoch) return
    if (error) report(error)
    if (mine === epoch) emit('close', { ...close, willReconnect: false })
  }

  function onSignal(signal: EnvironmentSignal) {
    log?.(signal)
    const { status } = state
    const active = status !== 'idle' && status !== 'closed'
    if (signal === 'offline') {
      set({ online: false })
      // Open: verify with a ping. Otherwise an attempt in flight or a retry timer is
      // abandoned, and start() settles on 'offline'.
      if (state.status === 'open') heartbeat?.ping()
      else if (active && status === state.status) start()
      return
    }
    if (signal === 'pagehide') return void (active && suspend('pagehide'))
    if (signal === 'online') set({ online: true })
    if (signal === 'freeze' || signal === 'hidden' || status !== state.status) return
    if (signal === 'resume') resumed = true
    if (status === 'open') {
      // Deadlines are wall-clock times: one that passed while the page slept is dead now.
      heartbeat?.check()
      if (state.status === 'open' && signal !== 'online' && signal !== 'pageshow') heartbeat?.ping()
    } else if (status === 'offline' || (status === 'reconnecting' && now() >= notBefore)) {
      // online and pageshow start afresh; visible and resume only bring the attempt forward.
      start(signal === 'online' || signal === 'pageshow')
    }
  }

  /** Closes the native socket with 1000 `reason`, waiting for a signal; `false` when a listener took over. */
  function suspend(reason: string) {
    const wasOpen = state.status === 'open'
    abandon(1000, reason)
    const mine = epoch
    const close = { code: 1000, reason, wasClean: true }
    set({ status: 'reconnecting', retryAt: null, ...(wasOpen && { lastClose: close }), ...counts() })
    if (wasOpen && mine === epoch) emit('close', { ...close, willReconnect: true })
    return mine === epoch
  }

  function closedError(dropped?: unknown) {
    return new SocketClosedError('socket closed — call connect() to use it again', { dropped })
  }

  /** Reports a message that will not be sent; a request or delivery waiting for it rejects. */
  function drop(frame: QueuedFrame, error: SteadySocketError) {
    unqueue(frame)
    frame.dropped?.(error)
    report(error)
  }

  const overflow = (frame: QueuedFrame, why: string, cause?: unknown) =>
    drop(frame, new QueueOverflowError(`message dropped: ${why} — see the queue option`, { dropped: frame.value, cause }))

  function unqueue(frame: QueuedFrame) {
    queue.remove(frame)
    if (frame.key) void store!.delete(frame.key)
  }

  /** Keeps a queued frame in the durable store; a store that refuses it drops it. */
  function persist(frame: QueuedFrame) {
    if (!store || frame.key) return
    const { data } = frame
    frame.key = `${now().toString(36).padStart(9, '0')}-${requests.id()}`
    const record: OutboxRecord = { key: frame.key, data: typeof data === 'string' ? data : data instanceof Blob ? '' : new Uint8Array(ArrayBuffer.isView(data) ? data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) : data), at: now(), expires: frame.expires, id: frame.id }
    const save = (record: OutboxRecord) =>
      Promise.resolve()
        .then(() => store.put(record))
        .catch((cause) => (cause instanceof StorageError ? report(cause) : overflow(frame, `the outbox store refused it: ${why(cause)}`, cause)))
    if (data instanceof Blob) void data.arrayBuffer().then((bytes) => save({ ...record, data: new Uint8Array(bytes) }))
    else void save(record)
  }

  /** Prepends the frames earlier pages left in the store, and announces them. */
  function adopt(records: OutboxRecord[]) {
    const frames = records.map((record, i): QueuedFrame => {
      const frame: QueuedFrame = { data: record.data, size: 0, expires: record.expires ?? Infinity, value: record.data, seq: i - records.length, key: record.key, id: record.id }
      // A restored delivery is settled by its acknowledgement like one made on this page.
      if (record.id)
        requests.pending.set(record.id, () => {
          requests.pending.delete(record.id!)
          inFlight -= +!!frame.sent
          unqueue(frame)
          pump()
        })
      return frame
    })
    queue.restore(frames)
    if (records.length) emit('restored', { messages: records.length, deliveries: records.flatMap((record) => record.id ?? []) })
  }

  /** Writes waiting frames in order while the connection takes them; deliveries wait for room in the window. */
  function pump() {
    const mine = epoch
    const socket = ws
    const expired: QueuedFrame[] = []
    while (mine === epoch && socket) {
      const frame = queue.next(now(), expired, inFlight < delivery.inFlight)
      if (frame) {
        if (frame.id) {
          frame.sent = true
          inFlight++
        } else {
          unqueue(frame)
          buffered.push(frame)
        }
        socket.send(frame.data)
      } else if (!expired.length) break
      // Listeners of these errors may send: the loop takes their frames in this flush.
      for (const old of expired.splice(0)) overflow(old, 'older than its ttl')
    }
    if (mine === epoch && state.status === 'open') set(counts())
  }

  /** Writes now when open and nothing waits, else queues; `true` when written now. */
  function write(data: WireData, value: unknown, id?: string, dropped?: (error: Error) => void, expires = now() + ttl): QueuedFrame | boolean {
    if (state.status === 'closed') {
      const error = closedError(value)
      dropped?.(error)
      report(error)
      return false
    }
    // A deadline that passed while timers slept: the connection is dead, so queue instead.
    if (state.status === 'open') heartbeat?.check()
    const frame: QueuedFrame = { data, size: maxBytes < Infinity ? wireSize(data) : 0, expires, value, seq: ++seq, id, dropped }
    // readyState guards the gap between a close starting and its event: such a socket
    // discards writes silently, so they are queued instead.
    if (!id && state.status === 'open' && ws?.readyState === 1 && !queue.waiting()) {
      if (!ws.bufferedAmount) buffered = []
      buffered.push(frame)
      ws.send(data)
      return true
    }
    if (state.status === 'idle') start(true)
    for (const out of queue.push(frame)) overflow(out, 'the queue is full')
    if (queue.frames.includes(frame)) persist(frame)
    if (state.status === 'open') pump()
    else set(counts())
    return frame
  }

  /** Sends a subscription's message (a value or a function) now; the socket is open. */
  function transmit(message: unknown) {
    try {
      ws!.send(encode(codec, produce(message)))
    } catch (cause) {
      report(new MessageError(`subscription message failed: ${why(cause)}`, { data: message, cause }))
    }
  }

  /** Starts a request or delivery: a frame with an id that settles on the reply (or ack). */
  function correlated(message: unknown, timeout: number, signal: AbortSignal | undefined, keep: boolean) {
    if (!message || typeof message !== 'object' || isBinary(message)) return Promise.reject(new TypeError('request/deliver: the message must be an object'))
    return requests.start(message, timeout, signal, (copy, id, settle) => {
      const frame = write(encode(codec, copy), message, keep ? id : undefined, settle, keep ? now() + timeout : undefined)
      return () => {
        if (typeof frame === 'object') {
          inFlight -= +!!frame.sent
          unqueue(frame)
          if (state.status === 'open') pump()
          else set(counts())
        }
      }
    })
  }

  for (const event in config.on) events.on(event as keyof SocketEvents, config.on[event as keyof SocketEvents] as never)
  if (!config.lazy) start(true)

  return {
    get state() {
      return state
    },
    on: events.on,
    connect() {
      // The app's own call wins over the server's retryAfter.
      notBefore = 0
      if (state.status !== 'open' && state.status !== 'connecting') start(true)
    },
    send: (message) => write(encode(codec, message), message) === true,
    sendRaw(data) {
      if (typeof data !== 'string' && !isBinary(data)) throw new TypeError('sendRaw: data must be a string or binary — use send() for messages')
      return write(data, data) === true
    },
    request: (message, options = {}) => correlated(message, options.timeout ?? config.request.timeout, options.signal, false),
    deliver: (message, options = {}) => correlated(message, options.ttl ?? delivery.ttl, options.signal, true).then(noop),
    subscribe(key, spec, onMessage) {
      if (state.status === 'closed') {
        report(closedError())
        return noop
      }
      const fresh = !subscriptions.has(key)
      const release = hold(subscriptions, key, spec, onMessage)
      if (fresh && state.status === 'open') transmit(spec.subscribe)
      if (state.status === 'idle') start(true)
      return () => {
        const last = release()
        if (last?.unsubscribe !== undefined && state.status === 'open') transmit(last.unsubscribe)
      }
    },
    reconnect() {
      const { status } = state
      if ((status !== 'open' && status !== 'connecting') || suspend('reconnect')) start(true)
    },
    close(code = 1000, reason = '') {
      if (code !== 1000 && !(code >= 3000 && code < 5000)) throw new RangeError(`close: code ${code} — use 1000 or 3000–4999`)
      if (wireSize(reason) > 123) throw new RangeError('close: reason over 123 bytes — shorten it')
      if (state.status !== 'closed') stop({ code, reason, wasClean: true })
    },
  }
}
