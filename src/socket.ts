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

/** An error's own words, for messages that must carry them (DESIGN 7), without query strings (tokens). */
const why = (cause: any) => String(cause?.message || cause?.name || cause).replace(/\?\S*/g, '?…')

/** A close as messages name it. */
const said = ({ code, reason }: CloseInfo) => `close ${code}${reason && ` ${reason}`}`

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
  const { retry, env, validate, delivery } = config
  // A logger that throws must not break the socket.
  const log =
    config.log &&
    ((...line: unknown[]) => {
      try {
        config.log!(...line)
      } catch {}
    })
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
  const warnings = createWarnings(now)

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
  // Ids of deliveries restored from the store and not yet acknowledged.
  const restored = new Set<string>()
  // Deliveries written on this connection and not yet acknowledged.
  let inFlight = 0
  // Every write since the browser's buffer was last seen empty, with what it added to the
  // buffer; the `send` frames among them that it had not transmitted when the connection
  // died go back to the queue.
  let buffered: { cost: number; frame?: QueuedFrame }[] = []
  // Bytes of a close reply Node's ws may still hold when a server's close frame arrived; set
  // by every close event (a stale value only ever puts back less).
  let reply = 0
  // When the connection was lost (or the first attempt began), for `maxElapsed`.
  let lostAt: number | undefined
  // The server's `retryAfter`: no attempt before this time, whatever signal arrives.
  let notBefore = 0
  let resumed = false
  // The open sequence runs once per connection.
  let opening = false
  let inStateEmit = false
  let inErrorEmit = false

  const heartbeat =
    config.heartbeat &&
    createHeartbeat(
      config.heartbeat,
      clock,
      (data) => written(data),
      () => lost({ code: 4000, reason: 'heartbeat timeout', wasClean: false }, new TimeoutError('heartbeat timeout — does the server answer pings? see heartbeat.isPong')),
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
      requeue(ws.bufferedAmount - reply)
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
    // A frame goes back only if all it added to the buffer is still there: browsers count
    // data bytes, Node's ws headers too, so each write's own share was measured when it was
    // made, pings and subscriptions included. At most once rather loses than duplicates.
    for (let i = buffered.length, write; i-- && (write = buffered[i]!).cost && write.cost <= bytes; ) {
      bytes -= write.cost
      if (write.frame) back.push(write.frame)
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
    if (now() - lostAt >= retry.maxElapsed) return stop(state.lastClose ?? abnormal(), new ConnectionError('gave up — retry.maxElapsed passed'))
    if (!state.online) return set({ status: 'offline', retryAt: null, ...(fresh && { attempt: 0 }) })
    // Back online before the server's retryAfter: wait for it.
    if (now() < notBefore) {
      timer = setTimeout(start, notBefore - now())
      return set({ status: 'reconnecting', retryAt: notBefore })
    }
    timer = setTimeout(() => lost(abnormal(), new TimeoutError(`connect timeout after ${config.connectTimeout} ms — check the server or raise connectTimeout`)), config.connectTimeout)
    set({ status: 'connecting', retryAt: null, ...(fresh && { attempt: 0 }) })
    if (mine !== epoch) return
    const failed = (cause: unknown, close = abnormal()) => lost(close, new ConnectionError(`connect failed: ${why(cause)} — check the url and the server`, { cause, close }))
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
          // A close frame came: ws replies with its code (2 bytes, a 2-byte header, a 4-byte mask).
          reply = code === 1006 ? 0 : 8
          if (state.status === 'open') lost(close)
          else failed(said(close), close)
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
    if (!store) return flush()
    // On every open: pages (or tabs) that went away meanwhile left frames to send first.
    void store
      .adopt()
      .then(adopt, report)
      .then(() => mine === epoch && flush())
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
    const bad = (cause: unknown, issues?: readonly any[]) =>
      // A parser's message may quote the frame: a message body, never shown.
      report(new MessageError(`message dropped: ${issues ? JSON.stringify(issues.map((issue) => issue.message ?? issue)) : why(cause).replace(/"[^"]*"/g, '"…"')} — the frame is in .data`, { data, cause, issues }))
    let result
    try {
      result = check(validate, codec.decode(data as string))
    } catch (cause) {
      return bad(cause)
    }
    const settled = (checked: Awaited<typeof result> | undefined) => (checked && !checked.issues ? accept(checked.value) : bad('the validator gave no result', checked?.issues))
    if (!(result instanceof Promise)) return validating ? inOrder(mine, () => settled(result)) : settled(result)
    // A validator that never settles must not stall the frames behind it.
    let limit: unknown
    // Handled at once (its turn may come later): a rejection waiting for it is not unhandled.
    const outcome = Promise.race([result, new Promise<never>((_, reject) => (limit = setTimeout(() => reject(new Error(`no result in ${config.request.timeout} ms`)), config.request.timeout)))]).then(
      (checked) => () => settled(checked),
      (cause) => () => bad(cause),
    )
    void outcome.finally(() => clearTimeout(limit))
    inOrder(mine, () => outcome.then((finish) => mine === epoch && finish()))
  }

  /** Runs `step` now, or after the validations in progress; never after the connection ended. */
  function inOrder(mine: number, step: () => unknown) {
    const run = () => mine === epoch && step()
    const result = validating ? validating.then(run) : run()
    if (result instanceof Promise) {
      // A step that failed must not stop the ones behind it.
      const chain: Promise<unknown> = (validating = result.then(noop, report).finally(() => validating === chain && (validating = undefined)))
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
    if (!again) return stop(close, new ConnectionError(`stopped: ${error ? why(error) : said(close)} — see the shouldReconnect and retry options`, { cause: error, close }))
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
    return new SocketClosedError('socket closed — call connect() first', { dropped })
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
    const { key, saved } = frame
    // After its put: a delete that overtook it would leave the frame stored for ever.
    if (key) void saved!.then(() => store!.delete(key))
    frame.key = undefined
  }

  /** Keeps a queued frame in the durable store; a store that refuses it drops it. */
  function persist(frame: QueuedFrame) {
    if (!store || frame.key) return
    const { data, expires, id } = frame
    const key = (frame.key = `${now().toString(36).padStart(9, '0')}-${requests.id()}`)
    frame.saved = Promise.resolve(store.put({ key, data, at: now(), expires, id })).catch((cause) =>
      cause instanceof StorageError ? report(cause) : overflow(frame, `the store refused it: ${why(cause)}`, cause),
    )
  }

  /** Prepends the frames earlier pages left in the store, and announces them. */
  function adopt(records: OutboxRecord[]) {
    // Before everything queued here, and before what earlier adoptions brought.
    const first = Math.min(0, queue.frames[0]?.seq ?? 0) - records.length
    const frames = records.flatMap((record, i): QueuedFrame[] => {
      const { id, key } = record
      // A call here holds this delivery already (a tab handed it to this new leader): its own frame goes, not the stored copy.
      if (id && requests.pending.has(id)) {
        void store!.delete(key)
        return []
      }
      const frame: QueuedFrame = { data: record.data, size: 0, expires: record.expires ?? Infinity, value: record.data, seq: first + i, key, saved: Promise.resolve(), id }
      // A restored delivery is settled by its acknowledgement like one made on this page. No
      // caller waits for it to learn of a close(): it stays queued and stored, as a send does.
      if (id) {
        restored.add(id)
        requests.pending.set(id, (error) => {
          if (error) return
          requests.pending.delete(id)
          restored.delete(id)
          release(frame)
        })
      }
      return [frame]
    })
    queue.restore(frames)
    if (frames.length) emit('restored', { messages: frames.length, deliveries: frames.flatMap((frame) => frame.id ?? []) })
  }

  /** Takes a settled request or delivery out of the queue (and the window); what waited behind it may go. */
  function release(frame: QueuedFrame) {
    inFlight -= +!!frame.sent
    unqueue(frame)
    if (state.status === 'open') pump()
    else set(counts())
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
          written(frame.data)
        } else {
          unqueue(frame)
          written(frame.data, frame)
        }
      } else if (!expired.length) break
      // Listeners of these errors may send: the loop takes their frames in this flush.
      for (const old of expired.splice(0)) overflow(old, 'older than its ttl')
    }
    if (mine === epoch && state.status === 'open') set(counts())
  }

  /** Writes to the open native socket, remembering what it added to the browser's buffer; `frame` is a `send` frame. */
  function written(data: WireData, frame?: QueuedFrame) {
    const socket = ws!
    const before = socket.bufferedAmount
    // An empty buffer: everything written before was transmitted.
    if (!before) buffered = []
    socket.send(data)
    buffered.push({ cost: socket.bufferedAmount - before, frame })
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
    // The hot path: `frames.length` first, so an empty queue costs no scan.
    if (!id && state.status === 'open' && ws?.readyState === 1 && (!queue.frames.length || !queue.waiting())) {
      written(data, frame)
      return true
    }
    if (state.status === 'idle') start(true)
    const pushedOut = queue.push(frame)
    for (const out of pushedOut) overflow(out, 'the queue is full')
    if (!pushedOut.includes(frame)) persist(frame)
    if (state.status === 'open') pump()
    else set(counts())
    return frame
  }

  /** Sends a subscription's message (a value or a function) now; the socket is open. */
  function transmit(message: unknown) {
    try {
      written(encode(codec, produce(message)))
    } catch (cause) {
      report(new MessageError(`subscription message failed: ${why(cause)}`, { data: message, cause }))
    }
  }

  /** Starts a request or delivery: a frame with an id that settles on the reply (or ack). */
  function correlated(message: unknown, timeout: number, signal: AbortSignal | undefined, keep: boolean) {
    if (!message || typeof message !== 'object' || isBinary(message)) return Promise.reject(new TypeError('the message must be an object'))
    // The caller of a delivery restored from the store calls again with its id (a tab handing it
    // to a new leader): the call takes the stored copy's place, so its promise gets the ack.
    const own = (message as Record<string, unknown>)[config.request.idField] as string
    if (keep && restored.has(own)) requests.pending.get(own)!(undefined)
    return requests.start(message, timeout, signal, (copy, id, settle) => {
      const frame = write(encode(codec, copy), message, keep ? id : undefined, settle, keep ? now() + timeout : undefined)
      return () => typeof frame === 'object' && release(frame)
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
      if (typeof data !== 'string' && !isBinary(data)) throw new TypeError('sendRaw takes a string or binary — use send() for messages')
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
