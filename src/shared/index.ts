import {
  browserEnvironment,
  ConnectionError,
  createSocket,
  MessageError,
  QueueOverflowError,
  SocketClosedError,
  SteadySocketError,
  StorageError,
  TimeoutError,
  type SocketEvents,
  type SocketOptions,
  type SocketState,
  type SteadySocket,
  type SubscriptionSpec,
} from 'steadysocket'

/** Which part a tab plays: it holds the connection, uses the leader's, or runs its own (no Web Locks or `BroadcastChannel`). */
export type Role = 'leader' | 'follower' | 'solo'

/** Events of a shared socket: those of `createSocket`, plus `role`. */
export interface SharedSocketEvents<In = unknown> extends SocketEvents<In> {
  role: Role
}

export interface SharedSocketOptions<In = unknown, Out = unknown> extends Omit<SocketOptions<In, Out>, 'on'> {
  /** Tabs with the same name share one connection; include the user (`'chat:' + userId`) so two accounts never share. */
  name: string
  /** Ms of silence from a frozen or stalled leader after which a visible tab takes the connection over. @default 10000 */
  takeoverAfter?: number
  /** Listeners registered before anything happens. */
  on?: { [K in keyof SharedSocketEvents<In>]?: (payload: SharedSocketEvents<In>[K]) => void }
}

/** The object `createSharedSocket` returns: a `SteadySocket` that also tells its `role`. */
export interface SharedSocket<In = unknown, Out = unknown> extends Omit<SteadySocket<In, Out>, 'on'> {
  /** `'leader'` holds the connection for every tab, `'follower'` uses the leader's, `'solo'` has its own. */
  readonly role: Role
  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof SharedSocketEvents<In>>(event: K, listener: (payload: SharedSocketEvents<In>[K]) => void): () => void
}

type Url = Parameters<typeof createSocket>[0]
type Spec = SubscriptionSpec<any, any>
type Msg = Record<string, any>
/** A call a tab hands to the leader: a frame (`s`), a request (`r`) or a delivery (`d`); `o` is the ms it has left. */
type Wire = { n: number; k: 's' | 'r' | 'd'; v: any; o?: number }
type Item = Wire & { d?: number; c?: boolean; ok?: (value: any) => void; no?: (error: unknown) => void; off?: () => void }

// Bumped when tabs of two builds could no longer understand each other: they use other names.
const PROTOCOL = 'steadysocket/1/'
// How long a new leader waits for the other tabs to say what they hold before it connects.
const GATHER = 500
const EVENTS = ['open', 'close', 'reconnecting', 'state', 'message', 'binary', 'error', 'restored'] as const
const ERRORS: Record<string, new (message: string) => Error> = {
  SteadySocketError,
  ConnectionError,
  TimeoutError,
  MessageError,
  QueueOverflowError,
  SocketClosedError,
  StorageError,
}
const noop = () => {}
const isBinary = (value: unknown) =>
  value instanceof ArrayBuffer || ArrayBuffer.isView(value) || (typeof Blob !== 'undefined' && value instanceof Blob)
// Errors cross tabs as plain data and come back as the same classes.
const pack = (error: any) => ({ name: error?.name, message: error?.message, close: error?.close })
const revive = (data: any) => Object.assign(new (ERRORS[data.name] ?? Error)(data.message), data)

/**
 * Creates a socket that every tab of this origin with the same `name` shares: one tab (the
 * leader, elected with Web Locks) holds the connection, the others use it over a
 * `BroadcastChannel`. Same surface and events as `createSocket`, plus `role`.
 * @param url A URL, or a (maybe async) function called before every attempt.
 * @example
 * const socket = createSharedSocket<ServerMessage, ClientMessage>('wss://example.com/live', { name: 'chat:' + userId })
 * socket.on('role', (role) => console.log('this tab is the', role))
 */
export function createSharedSocket<In = unknown, Out = unknown>(url: Url, options: SharedSocketOptions<In, Out>): SharedSocket<In, Out> {
  const { name, takeoverAfter = 10_000, on, ...rest } = options ?? ({} as SharedSocketOptions<In, Out>)
  if (typeof name !== 'string' || !name)
    throw new TypeError(`createSharedSocket: option name got ${typeof name === 'string' ? '""' : String(name)} — use a non-empty string that includes the user, e.g. 'chat:' + userId`)
  if (!(takeoverAfter > 0)) throw new RangeError(`createSharedSocket: option takeoverAfter got ${takeoverAfter} — use a number of ms > 0`)
  const locks = globalThis.navigator?.locks
  const Channel = globalThis.BroadcastChannel
  // The core validates the options here, in every tab; only a leader ever starts it.
  const shared = !!locks && !!Channel
  const core = createSocket<In, Out>(url, (shared ? { ...rest, lazy: true } : { ...rest, on }) as SocketOptions<In, Out>)
  if (!shared) return Object.assign(core, { role: 'solo' as const }) as SharedSocket<In, Out>

  const env = { ...browserEnvironment(), ...rest.environment }
  const now = env.now ?? Date.now
  const later: (fn: () => void, ms: number) => unknown = env.setTimeout ?? ((fn, ms) => setTimeout(fn, ms))
  const cancel: (id: unknown) => void = env.clearTimeout ?? ((id) => clearTimeout(id as number))
  const { codec = 'json', lazy } = rest
  const idField = rest.request?.idField ?? 'id'
  const P = PROTOCOL + name
  const tabLock = (id: string) => `${P}/tab/${id}`

  const listeners = new Map<string, Set<(payload: any) => void>>()
  let state: SocketState = { ...core.state, status: lazy ? 'idle' : 'connecting' }
  let role: Role = 'follower'
  let opened = false
  let stopped = false
  let visible = globalThis.document?.visibilityState !== 'hidden'

  // This tab: its subscriptions (reference-counted here), its calls not yet finished.
  const local = new Map<string, { spec: Spec; holders: Set<(message: In) => void> }>()
  const out = new Map<number, Item>()
  let seq = 0

  // Membership while joined: id, channel, the abort of the queued leader-lock request.
  type Join = { id: string; ch?: BroadcastChannel; ac: AbortController; free?: () => void }
  let join: Join | undefined
  // The leader this tab follows (its own id when leading) and its term.
  let leaderId: string | undefined
  let term = 0
  let silence: unknown
  let heard = 0

  // While leading: the term's lock release, the tabs heard from, the messages held until ready.
  type Lead = { free: () => void; heard: Set<string>; live?: string[]; backlog: Msg[]; timer?: unknown; beat?: unknown }
  let lead: Lead | undefined
  let ready = false
  // Leader only: which tabs hold each key (first holder's spec is sent), the core's holds.
  const holders = new Map<string, Map<string, Spec>>()
  const held = new Map<string, { release: () => void; last?: Spec }>()
  const watches = new Map<string, AbortController>()
  const calls = new Map<string, [AbortController, boolean]>()

  function emit<K extends keyof SharedSocketEvents<In>>(event: K, payload: SharedSocketEvents<In>[K]) {
    const set = listeners.get(event) ?? []
    for (const listener of set)
      try {
        listener(payload)
      } catch (cause) {
        if (event === 'error') console.error(cause)
        else report(new SteadySocketError('a listener threw — see cause', { cause }))
      }
    return (set as Set<unknown>).size
  }

  function report(error: SteadySocketError) {
    if (!emit('error', error as SharedSocketEvents<In>['error'])) console.warn('[steadysocket]', error.message)
  }

  function setState(next: SocketState) {
    if (next !== state) emit('state', (state = next))
  }

  function setRole(next: Role) {
    if (next !== role) emit('role', (role = next))
  }

  const value = (spec: unknown) => {
    try {
      return typeof spec === 'function' ? spec() : spec
    } catch (cause) {
      report(new MessageError('subscription message failed — see cause', { data: spec, cause }))
    }
  }

  function post(message: Msg) {
    try {
      join?.ch?.postMessage(message)
    } catch (cause) {
      report(new MessageError('message could not reach the other tabs (not structured-cloneable) — see cause', { data: message, cause }))
    }
  }

  const toLeader = (message: Msg) => leaderId && leaderId !== join?.id && post({ ...message, f: join?.id, T: term })
  const wire = ({ n, k, v, d }: Item): Wire => ({ n, k, v, o: d === undefined ? undefined : Math.max(0, d - now()) })
  const announce = () => post({ t: 'L', f: join?.id, T: term, s: ready ? core.state : undefined })

  /** What a tab does with an event of the leader's socket (its own, or mirrored from another tab). */
  function mirror(event: (typeof EVENTS)[number], payload: any, remote?: boolean) {
    if (event === 'state') return setState(payload)
    if (event === 'open') {
      payload = { reconnect: opened }
      opened = true
    }
    if (event === 'message')
      for (const { spec, holders } of local.values())
        for (const holder of holders)
          try {
            if (!spec.match || spec.match(payload)) holder(payload)
          } catch (cause) {
            report(new SteadySocketError('a listener threw — see cause', { cause }))
          }
    // A function spec can carry a resume point: the leader gets its value before the next open.
    if (event === 'close' && remote)
      for (const [key, { spec }] of local) if (typeof spec.subscribe === 'function') toLeader({ t: 'S', k: key, s: value(spec.subscribe), u: value(spec.unsubscribe) })
    if (event === 'error' && !remote) return report(payload)
    emit(event, remote && event === 'error' ? revive(payload) : payload)
  }

  for (const event of EVENTS)
    core.on(event, (payload: any) => {
      if (!ready) return
      post({ t: 'E', T: term, e: event, p: event === 'error' ? pack(payload) : payload })
      mirror(event, payload)
    })

  /** A new leader (this tab or another): what was in flight with the old one is handed over. */
  function follow(id: string, T: number, leaderState?: SocketState) {
    leaderId = id
    term = T
    const wasOpen = state.status === 'open'
    setState(leaderState ?? (wasOpen ? { ...state, status: 'reconnecting', retryAt: null } : state))
    if (wasOpen) emit('close', { code: 1001, reason: 'leader tab changed', wasClean: false, willReconnect: true })
    for (const item of out.values())
      // A request the old leader had sent cannot get its reply any more; anything else goes again.
      if (item.k === 'r' && item.c) settle(item.n, false, new ConnectionError('request lost: the tab holding the connection went away before the reply — retry if it is safe to repeat'))
      else item.c = false
    if (id !== join?.id)
      post({
        t: 'H',
        f: join?.id,
        T,
        s: [...local].map(([key, { spec }]) => [key, value(spec.subscribe), value(spec.unsubscribe)]),
        i: [...out.values()].map(wire),
      })
    listen()
  }

  /** Re-arms the takeover check: called when the leader's timer-driven beat arrives (a frozen leader sends none). */
  function listen() {
    cancel(silence)
    heard = now()
    silence = later(check, takeoverAfter)
  }

  function check() {
    if (join?.ch && role === 'follower' && visible && now() - heard >= takeoverAfter) {
      // A held lock cannot be queued for and stolen at once: drop the queued request first.
      join.ac.abort()
      join.ac = new AbortController()
      campaign(true)
    }
  }

  function campaign(steal?: boolean) {
    const current = join
    if (!current) return
    let mine: typeof lead
    locks!
      .request(P, steal ? { steal } : { signal: current.ac.signal }, () =>
        join === current ? new Promise<void>((free) => (mine = become(free))) : undefined,
      )
      .catch(() => {
        // Stolen by a tab that heard nothing from this one for takeoverAfter (it was frozen).
        if (mine && mine === lead) {
          resign()
          campaign()
        }
      })
  }

  function become(free: () => void) {
    const me = join!.id
    const current: Lead = (lead = { free, heard: new Set(), backlog: [] })
    setRole('leader')
    follow(me, Math.max(now(), term + 1))
    cancel(silence)
    announce()
    const beat = () => {
      post({ t: 'B', T: term })
      current.beat = later(beat, takeoverAfter / 4)
    }
    beat()
    // Other tabs alive now hold their tab locks: wait (a bounded time) until each said what it holds.
    const prefix = tabLock('')
    locks!.query().then(({ held = [] }) => {
      current.live = held.flatMap(({ name = '' }) => (name.startsWith(prefix) && name !== tabLock(me) ? [name.slice(prefix.length)] : []))
      if (lead === current) gathered()
    }, noop)
    current.timer = later(start, GATHER)
    return current
  }

  function gathered() {
    if (lead?.live?.every((id) => lead!.heard.has(id))) start()
  }

  function start() {
    if (!lead || ready) return
    cancel(lead.timer)
    ready = true
    const status = core.state.status
    if (!lazy || status === 'closed') core.connect()
    // A lazy core that has not started emits nothing: tell the tabs where it stands.
    if (core.state.status === 'idle') {
      post({ t: 'E', T: term, e: 'state', p: core.state })
      setState(core.state)
    }
    for (const [key, { spec }] of local) put(join!.id, key, spec)
    for (const item of out.values()) run(join!.id, wire(item))
    for (const message of lead.backlog) handle(message)
    lead.backlog = []
  }

  /** Stops leading: the core closes (its events no longer count), the lock goes to the next tab. */
  function resign(code?: number, reason?: string) {
    const current = lead
    if (!current) return
    lead = undefined
    ready = false
    cancel(current.timer)
    cancel(current.beat)
    for (const watch of watches.values()) watch.abort()
    watches.clear()
    calls.clear()
    core.close(code, reason)
    // Released after the close, so no unsubscribe frame goes out.
    for (const hold of held.values()) hold.release()
    held.clear()
    holders.clear()
    current.free()
    setRole('follower')
  }

  /** Leader: tab `tab` holds `key` with `spec`, or (no spec) no longer does; one core subscription per key. */
  function put(tab: string, key: string, spec?: Spec) {
    const tabs = holders.get(key) ?? new Map<string, Spec>()
    const old = tabs.get(tab)
    if (spec) tabs.set(tab, spec)
    else tabs.delete(tab)
    holders.set(key, tabs)
    const hold = held.get(key)
    if (!tabs.size) {
      holders.delete(key)
      if (hold) {
        held.delete(key)
        hold.last = old
        hold.release()
      }
    } else sync(key)
  }

  function sync(key: string) {
    if (held.has(key) || !holders.has(key) || core.state.status === 'closed') return
    const hold: { release: () => void; last?: Spec } = { release: noop }
    const first = () => holders.get(key)?.values().next().value ?? hold.last
    held.set(key, hold)
    // Read at every (re)connect and at release: the core sends what the first holder holds now.
    hold.release = core.subscribe(key, {
      get subscribe() {
        return first()?.subscribe
      },
      get unsubscribe() {
        return first()?.unsubscribe
      },
    })
  }

  /** Leader: runs a tab's call on the core, confirms it at once, and answers that tab only. */
  function run(tab: string, { n, k, v, o }: Wire) {
    const me = join!.id
    const current = lead
    const answer = (ok: boolean, result: unknown) =>
      lead === current && (tab === me ? settle(n, ok, result) : post({ t: 'R', T: term, to: tab, n, ok, v: ok ? result : pack(result) }))
    if (k === 's') core.sendRaw(v)
    else {
      const id = `${tab} ${n}`
      const abort = new AbortController()
      calls.set(id, [abort, k === 'r'])
      ;(k === 'r' ? core.request(v, { timeout: o, signal: abort.signal }) : core.deliver(v, { ttl: o, signal: abort.signal }))
        .then(
          (result) => answer(true, result),
          (error) => answer(false, error),
        )
        .finally(() => calls.delete(id))
    }
    if (tab === me) confirm(n)
    else post({ t: 'C', T: term, to: tab, n })
  }

  function confirm(n: number) {
    const item = out.get(n)
    if (item?.k === 's') out.delete(n)
    else if (item) item.c = true
  }

  function settle(n: number, ok: boolean, result: unknown) {
    const item = out.get(n)
    if (!item) return
    out.delete(n)
    item.off?.()
    if (ok) item.ok?.(result)
    else item.no?.(result)
  }

  /** Leader: a tab went away (closed, crashed, discarded, or cached): its holds and requests go. */
  function drop(tab: string) {
    watches.get(tab)?.abort()
    watches.delete(tab)
    for (const [key, tabs] of holders) if (tabs.has(tab)) put(tab, key)
    // Its deliveries stay: what it handed over still has to arrive.
    for (const [id, [abort, request]] of calls) if (request && id.startsWith(tab + ' ')) abort.abort()
  }

  /** Leader: a message from another tab, once ready. */
  function handle(message: Msg) {
    const { t, f } = message
    if (t === 'H') {
      // Its own lock is released when the tab closes, crashes or is discarded: it is gone then.
      const watch = new AbortController()
      watches.set(f, watch)
      locks!.request(tabLock(f), { signal: watch.signal }, () => void (watches.get(f) === watch && drop(f))).catch(noop)
      for (const [key, s, u] of message.s) put(f, key, { subscribe: s, unsubscribe: u })
      for (const item of message.i) run(f, item)
    } else if (t === 'S') put(f, message.k, { subscribe: message.s, unsubscribe: message.u })
    else if (t === 'U') {
      const spec = holders.get(message.k)?.get(f)
      if (spec) spec.unsubscribe = message.u
      put(f, message.k)
    } else if (t === 'I') run(f, message.i)
    else if (t === 'X') calls.get(`${f} ${message.n}`)?.[0].abort()
    else if (t === 'K') {
      core[message.m as 'connect' | 'reconnect']()
      for (const key of holders.keys()) sync(key)
    } else if (t === 'G') drop(f)
  }

  function receive(message: Msg) {
    const { t, f, T } = message
    if (t === 'W') {
      if (lead) announce()
    } else if (t === 'L') {
      if (T <= term) return
      // Another tab leads with a later term: it stole the lock from this one (which was frozen).
      if (lead) {
        resign()
        campaign()
      }
      follow(f, T, message.s)
    } else if ('HSUIXKG'.includes(t)) {
      if (!lead || (T !== term && t !== 'G')) return
      if (t === 'H' || t === 'G') lead.heard.add(f)
      if (ready) return handle(message)
      lead.backlog.push(message)
      gathered()
    } else if (T === term && leaderId !== join?.id && (!message.to || message.to === join?.id)) {
      // Only the current leader is heard: a deposed one may still talk until it notices.
      if (t === 'B') listen()
      else if (t === 'E') mirror(message.e, message.p, true)
      else if (t === 'C') confirm(message.n)
      else if (t === 'R') settle(message.n, message.ok, message.ok ? message.v : revive(message.v))
    }
  }

  function enter() {
    const current: Join = (join = { id: globalThis.crypto.randomUUID(), ac: new AbortController() })
    // Everything starts once this tab's own lock is held, so a leader watching it never gets it first.
    locks!
      .request(tabLock(current.id), () => {
        if (join !== current) return
        current.ch = new Channel(P)
        current.ch.onmessage = ({ data }: MessageEvent) => join === current && receive(data)
        campaign()
        post({ t: 'W', f: current.id })
        listen()
        return new Promise<void>((free) => (current.free = free))
      })
      .catch(noop)
  }

  function leave(code?: number, reason?: string) {
    const current = join
    if (!current) return
    resign(code, reason)
    post({ t: 'G', f: current.id })
    current.ch?.close()
    current.free?.()
    current.ac.abort()
    cancel(silence)
    join = leaderId = undefined
    term = 0
  }

  const onSignal = (signal: string) => {
    if (signal === 'visible' || signal === 'hidden') {
      visible = signal === 'visible'
      check()
    }
    // Into the back/forward cache: hand the connection over (a cached leader would keep the
    // lock and block every other tab) and queue for nothing (a granted lock evicts the page).
    if (signal === 'pagehide') leave()
    if (signal === 'pageshow' && !stopped && !join) enter()
  }
  let unlisten = env.listen(onSignal)

  function item(k: 'r' | 'd', v: any, ms: number | undefined, signal?: AbortSignal) {
    return new Promise<any>((ok, no) => {
      if (stopped) return no(new SocketClosedError('socket closed — call connect() to use it again', { dropped: v }))
      if (signal?.aborted) return no(signal.reason)
      const n = ++seq
      const onAbort = () => {
        if (!out.has(n)) return
        settle(n, false, signal!.reason)
        if (ready) calls.get(`${join!.id} ${n}`)?.[0].abort()
        else toLeader({ t: 'X', n })
      }
      signal?.addEventListener('abort', onAbort)
      const entry: Item = { n, k, v, d: ms === undefined ? undefined : now() + ms, ok, no, off: () => signal?.removeEventListener('abort', onAbort) }
      out.set(n, entry)
      if (ready) run(join!.id, wire(entry))
      else toLeader({ t: 'I', i: wire(entry) })
    })
  }

  function encode(message: unknown) {
    if (isBinary(message)) return message
    let data: unknown
    try {
      data = codec === 'text' ? String(message) : codec === 'json' ? JSON.stringify(message) : codec.encode(message as Out)
    } catch (cause) {
      throw new MessageError('encode failed — see cause', { data: message, cause })
    }
    if (data === undefined) throw new MessageError('encode failed — nothing to send', { data: message })
    return data
  }

  function write(data: any, message: unknown) {
    if (stopped) {
      report(new SocketClosedError('socket closed — call connect() to use it again', { dropped: message }))
      return false
    }
    if (ready) return core.sendRaw(data)
    const entry: Item = { n: ++seq, k: 's', v: data }
    out.set(entry.n, entry)
    toLeader({ t: 'I', i: wire(entry) })
    return false
  }

  const isObject = (message: unknown) => !!message && typeof message === 'object' && !isBinary(message)

  function connect() {
    if (stopped) {
      stopped = false
      unlisten = env.listen(onSignal)
      setState({ ...state, status: 'connecting', retryAt: null })
      enter()
    } else if (ready) {
      core.connect()
      for (const key of holders.keys()) sync(key)
    } else toLeader({ t: 'K', m: 'connect' })
  }

  for (const event in on) listeners.set(event, new Set([(on as any)[event]]))
  enter()

  return {
    get state() {
      return state
    },
    get role() {
      return role
    },
    on(event, listener) {
      const set = listeners.get(event) ?? new Set()
      listeners.set(event, set)
      const entry = (payload: any) => listener(payload)
      set.add(entry)
      return () => void set.delete(entry)
    },
    send: (message) => write(encode(message), message),
    sendRaw(data) {
      if (typeof data !== 'string' && !isBinary(data)) throw new TypeError('sendRaw: data must be a string or binary — use send() for messages')
      return write(data, data)
    },
    request(message, options = {}) {
      if (!isObject(message)) return Promise.reject(new TypeError('request: the message must be an object'))
      return item('r', message, options.timeout ?? rest.request?.timeout ?? 10_000, options.signal)
    },
    deliver(message, options = {}) {
      if (!isObject(message)) return Promise.reject(new TypeError('deliver: the message must be an object'))
      // The id is set here, once: a copy re-sent to a new leader keeps it, so the server can de-duplicate.
      const copy = { [idField]: globalThis.crypto.randomUUID(), ...(message as Msg) }
      return item('d', copy, options.ttl ?? rest.delivery?.ttl, options.signal)
    },
    subscribe(key, spec, onMessage) {
      if (stopped) {
        report(new SocketClosedError('socket closed — call connect() to use it again'))
        return noop
      }
      let entry = local.get(key)
      const fresh = !entry
      if (!entry) local.set(key, (entry = { spec, holders: new Set() }))
      const holder = (message: In) => onMessage?.(message)
      const current = entry
      current.holders.add(holder)
      if (fresh) {
        if (ready) put(join!.id, key, spec)
        else toLeader({ t: 'S', k: key, s: value(spec.subscribe), u: value(spec.unsubscribe) })
      }
      return () => {
        if (!current.holders.delete(holder) || current.holders.size || local.get(key) !== current) return
        local.delete(key)
        if (ready) put(join!.id, key)
        else toLeader({ t: 'U', k: key, u: value(current.spec.unsubscribe) })
      }
    },
    connect,
    reconnect() {
      if (stopped) connect()
      else if (ready) core.reconnect()
      else toLeader({ t: 'K', m: 'reconnect' })
    },
    close(code = 1000, reason = '') {
      if (code !== 1000 && !(code >= 3000 && code < 5000)) throw new RangeError(`close: code ${code} — use 1000 or 3000–4999`)
      if (stopped) return
      stopped = true
      const error = new SocketClosedError('socket closed — call connect() to use it again')
      for (const { n, k } of out.values()) if (k !== 's') settle(n, false, error)
      leave(code, reason)
      unlisten()
      const close = { code, reason, wasClean: true }
      setState({ ...state, status: 'closed', retryAt: null, lastClose: close })
      emit('close', { ...close, willReconnect: false })
    },
  }
}
