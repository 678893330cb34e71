import * as core from 'steadysocket'
import {
  browserEnvironment,
  ConnectionError,
  createSocket,
  MessageError,
  SocketClosedError,
  SteadySocketError,
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
/** Leader only: the tabs holding a key (the first one's spec is what is sent) and the core's hold of it. */
type Key = { tabs: Map<string, Spec>; release: () => void; last?: Spec }
type Lead = { free: () => void; ac: AbortController; heard: Set<string>; live?: string[]; backlog: Msg[]; timer?: unknown; beat?: unknown }

// Bumped when tabs of two builds could no longer understand each other: they then use other names.
const PROTOCOL = 'steadysocket/1/'
// How long a new leader waits for the other tabs to say what they hold before it connects.
const GATHER = 500
const EVENTS = ['open', 'close', 'reconnecting', 'state', 'message', 'binary', 'error', 'restored'] as const
const noop = () => {}
const uid = () => globalThis.crypto.randomUUID()
const isBinary = (value: unknown) =>
  value instanceof ArrayBuffer || ArrayBuffer.isView(value) || (typeof Blob !== 'undefined' && value instanceof Blob)
const isObject = (message: unknown) => !!message && typeof message === 'object' && !isBinary(message)
// Errors cross tabs as plain data and come back as the same classes.
const pack = (error: any) => ({ name: error?.name, message: error?.message ?? String(error), close: error?.close })
const revive = (data: any) => Object.assign(new ((data.name?.endsWith('Error') && (core as any)[data.name]) || Error)(data.message), data)
const closed = (dropped?: unknown) => new SocketClosedError('socket closed — call connect() to use it again', { dropped })

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
    throw new TypeError(`createSharedSocket: option name got ${name === '' ? '""' : String(name)} — use a string that includes the user, e.g. 'chat:' + userId`)
  if (!(takeoverAfter > 0)) throw new RangeError(`createSharedSocket: option takeoverAfter got ${takeoverAfter} — use ms > 0`)
  const locks = globalThis.navigator?.locks
  const Channel = globalThis.BroadcastChannel
  const shared = !!locks && !!Channel
  // The core checks the options here, in every tab; only a leader ever starts it.
  const socket = createSocket<In, Out>(url, (shared ? { ...rest, lazy: true } : { ...rest, on }) as SocketOptions<In, Out>)
  if (!shared) return Object.assign(socket, { role: 'solo' as const }) as SharedSocket<In, Out>

  const env = { ...browserEnvironment(), ...rest.environment }
  const now = env.now ?? Date.now
  const later: (fn: () => void, ms: number) => unknown = env.setTimeout ?? ((fn, ms) => setTimeout(fn, ms))
  const cancel: (id: unknown) => void = env.clearTimeout ?? ((id) => clearTimeout(id as number))
  const { codec = 'json', lazy } = rest
  const P = PROTOCOL + name
  const tabLock = (id: string) => `${P}/tab/${id}`

  const listeners = new Map<string, Set<(payload: any) => void>>()
  let state: SocketState = { ...socket.state, status: lazy ? 'idle' : 'connecting' }
  let role: Role = 'follower'
  let opened = false
  let stopped = false
  let visible = globalThis.document?.visibilityState !== 'hidden'

  // This tab: its subscriptions (reference-counted here) and its calls not yet finished.
  const local = new Map<string, { spec: Spec; holders: Set<(message: In) => void> }>()
  const out = new Map<number, Item>()
  let seq = 0

  // While joined: this tab's id (new on every join), its channel, the abort of its queued
  // leader-lock request and the release of its own tab lock.
  let me: string | undefined
  let channel: BroadcastChannel | undefined
  let queued = new AbortController()
  let free = noop
  // The leader this tab follows (itself when leading), its term, when its last beat came.
  let leaderId: string | undefined
  let term = 0
  let silence: unknown
  let heard = 0

  let lead: Lead | undefined
  let ready = false
  const keys = new Map<string, Key>()
  const calls = new Map<string, [AbortController, boolean]>()

  function emit<K extends keyof SharedSocketEvents<In>>(event: K, payload: SharedSocketEvents<In>[K]) {
    const set = listeners.get(event) ?? []
    for (const listener of set)
      try {
        listener(payload)
      } catch (cause) {
        if (event === 'error') console.error(cause)
        else threw(cause)
      }
    return (set as Set<unknown>).size
  }

  const threw = (cause: unknown) => report(new SteadySocketError('a listener threw — see cause', { cause }))

  function report(error: SteadySocketError) {
    if (!emit('error', error as SharedSocketEvents<In>['error'])) console.warn('[steadysocket]', error.message)
  }

  function setState(next: SocketState) {
    if (next !== state) emit('state', (state = next))
  }

  function setRole(next: Role) {
    if (next !== role) emit('role', (role = next))
  }

  function value(spec: unknown) {
    try {
      return typeof spec === 'function' ? spec() : spec
    } catch (cause) {
      report(new MessageError('subscription message failed — see cause', { data: spec, cause }))
    }
  }

  function post(message: Msg) {
    try {
      channel?.postMessage({ f: me, ...message })
    } catch (cause) {
      report(new MessageError('not structured-cloneable — see cause', { data: message, cause }))
    }
  }

  const fromLeader = (message: Msg) => post({ ...message, T: term })
  const toLeader = (message: Msg) => leaderId !== me && fromLeader(message)
  const wire = ({ n, k, v, d }: Item): Wire => ({ n, k, v, o: d === undefined ? d : Math.max(0, d - now()) })
  const subscribeMessage = (key: string, spec: Spec) => ({ t: 'S', k: key, s: value(spec.subscribe), u: value(spec.unsubscribe) })
  const announce = () => fromLeader({ t: 'L', s: ready ? socket.state : undefined })

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
            threw(cause)
          }
    // A function spec can carry a resume point: the leader gets its value before the next open.
    if (event === 'close' && remote) for (const [key, { spec }] of local) if (typeof spec.subscribe === 'function') toLeader(subscribeMessage(key, spec))
    if (event === 'error' && !remote) return report(payload)
    emit(event, remote && event === 'error' ? revive(payload) : payload)
  }

  for (const event of EVENTS)
    socket.on(event, (payload: any) => {
      if (!ready) return
      fromLeader({ t: 'E', e: event, p: event === 'error' ? pack(payload) : payload })
      mirror(event, payload)
    })

  /** A new leader (this tab or another): what was in flight with the old one is handed over. */
  function follow(id: string, T: number, leaderState?: SocketState) {
    leaderId = id
    term = T
    const wasOpen = state.status === 'open'
    setState(leaderState ?? (wasOpen ? { ...state, status: 'reconnecting', retryAt: null } : state))
    if (wasOpen) emit('close', { code: 1001, reason: 'leader tab changed', wasClean: false, willReconnect: true })
    // A tab that joins an open connection sees it open, as a new socket would.
    else if (state.status === 'open') mirror('open', 0)
    for (const item of out.values())
      // A request the old leader had sent cannot get its reply any more; anything else goes again.
      if (item.k === 'r' && item.c) settle(item.n, false, new ConnectionError('request lost with the leader tab — retry if safe'))
      else item.c = false
    if (id !== me) toLeader({ t: 'H', s: [...local].map(([key, { spec }]) => subscribeMessage(key, spec)), i: [...out.values()].map(wire) })
    listen()
  }

  /** Re-arms the takeover check; the leader's beat comes from a timer, which a frozen page does not run. */
  function listen() {
    cancel(silence)
    heard = now()
    silence = later(check, takeoverAfter)
  }

  function check() {
    if (channel && role === 'follower' && visible && now() - heard >= takeoverAfter) {
      // A lock cannot be queued for and stolen at once: the queued request goes first.
      queued.abort()
      campaign(true)
    }
  }

  function campaign(steal?: boolean) {
    const joined = me
    const signal = (queued = new AbortController()).signal
    let mine: Lead | undefined
    locks!
      .request(P, steal ? { steal } : { signal }, () => (me === joined ? new Promise<void>((release) => (mine = become(release))) : undefined))
      .catch(() => {
        // Stolen by a tab that heard nothing from this one for takeoverAfter (it was frozen).
        if (mine && mine === lead) {
          resign()
          campaign()
        }
      })
  }

  function become(release: () => void) {
    const current: Lead = (lead = { free: release, ac: new AbortController(), heard: new Set(), backlog: [] })
    setRole('leader')
    follow(me!, Math.max(now(), term + 1))
    cancel(silence)
    announce()
    const beat = () => {
      fromLeader({ t: 'B' })
      current.beat = later(beat, takeoverAfter / 4)
    }
    beat()
    // The tabs alive now hold their tab locks: wait (a bounded time) until each said what it holds.
    const prefix = tabLock('')
    locks!.query().then(({ held = [] }) => {
      current.live = held.flatMap(({ name = '' }) => (name.startsWith(prefix) && name !== tabLock(me!) ? [name.slice(prefix.length)] : []))
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
    if (!lazy || socket.state.status === 'closed') socket.connect()
    // A lazy core that has not started emits nothing: tell the tabs where it stands.
    if (socket.state.status === 'idle') {
      fromLeader({ t: 'E', e: 'state', p: socket.state })
      setState(socket.state)
    }
    for (const [key, { spec }] of local) put(me!, key, spec)
    for (const item of out.values()) run(me!, wire(item))
    for (const message of lead.backlog) handle(message)
    lead.backlog = []
  }

  /** Stops leading: the core closes (its events no longer count) and the lock goes to the next tab. */
  function resign(code?: number, reason?: string) {
    const current = lead
    if (!current) return
    lead = undefined
    ready = false
    cancel(current.timer)
    cancel(current.beat)
    current.ac.abort()
    calls.clear()
    socket.close(code, reason)
    // Released after the close, so no unsubscribe frame goes out.
    for (const key of keys.values()) key.release()
    keys.clear()
    current.free()
    setRole('follower')
  }

  /** Leader: tab `tab` holds `key` with `spec`, or (no spec) no longer does; one core subscription per key. */
  function put(tab: string, key: string, spec?: Spec) {
    const entry: Key = keys.get(key) ?? { tabs: new Map(), release: noop }
    const old = entry.tabs.get(tab)
    if (spec) entry.tabs.set(tab, spec)
    else entry.tabs.delete(tab)
    keys.set(key, entry)
    if (entry.tabs.size) return sync(key)
    keys.delete(key)
    entry.last = old
    entry.release()
  }

  function sync(key: string) {
    const entry = keys.get(key)!
    if (entry.release !== noop || socket.state.status === 'closed') return
    const first = () => entry.tabs.values().next().value ?? entry.last
    // Read at every (re)connect and at release: the core sends what the first holder holds now.
    entry.release = socket.subscribe(key, {
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
    const current = lead
    const answer = (ok: boolean, result: unknown) =>
      lead === current && (tab === me ? settle(n, ok, result) : fromLeader({ t: 'R', to: tab, n, ok, v: ok ? result : pack(result) }))
    if (k === 's') socket.sendRaw(v)
    else {
      const id = `${tab} ${n}`
      const abort = new AbortController()
      calls.set(id, [abort, k === 'r'])
      ;(k === 'r' ? socket.request(v, { timeout: o, signal: abort.signal }) : socket.deliver(v, { ttl: o, signal: abort.signal }))
        .then(
          (result) => answer(true, result),
          (error) => answer(false, error),
        )
        .finally(() => calls.delete(id))
    }
    if (tab === me) confirm(n)
    else fromLeader({ t: 'C', to: tab, n })
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

  /** Leader: a tab went away (closed, crashed, discarded or cached): its holds and requests go, its deliveries stay. */
  function drop(tab: string) {
    for (const [key, { tabs }] of keys) if (tabs.has(tab)) put(tab, key)
    for (const [id, [abort, request]] of calls) if (request && id.startsWith(tab + ' ')) abort.abort()
  }

  /** Leader: a message from another tab, once ready. */
  function handle(message: Msg) {
    const { t, f, k } = message
    if (t === 'H') {
      // A tab's own lock is released when it closes, crashes or is discarded.
      const current = lead
      locks!.request(tabLock(f), { signal: current!.ac.signal }, () => void (lead === current && drop(f))).catch(noop)
      for (const subscribe of message.s) handle({ ...subscribe, f })
      for (const item of message.i) run(f, item)
    } else if (t === 'S') put(f, k, { subscribe: message.s, unsubscribe: message.u })
    else if (t === 'U') {
      const spec = keys.get(k)?.tabs.get(f)
      if (spec) spec.unsubscribe = message.u
      put(f, k)
    } else if (t === 'I') run(f, message.i)
    else if (t === 'X') calls.get(`${f} ${message.n}`)?.[0].abort()
    else if (t === 'K') {
      socket[message.m as 'connect' | 'reconnect']()
      for (const key of keys.keys()) sync(key)
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
    } else if (T === term && leaderId !== me && (!message.to || message.to === me)) {
      // Only the current leader is heard: a deposed one may still talk until it notices.
      if (t === 'B') listen()
      else if (t === 'E') mirror(message.e, message.p, true)
      else if (t === 'C') confirm(message.n)
      else if (t === 'R') settle(message.n, message.ok, message.ok ? message.v : revive(message.v))
    }
  }

  function enter() {
    const id = (me = uid())
    // Everything starts once this tab's own lock is held, so a leader watching it never gets it first.
    locks!
      .request(tabLock(id), () => {
        if (me !== id) return
        channel = new Channel(P)
        channel.onmessage = ({ data }: MessageEvent) => me === id && receive(data)
        campaign()
        post({ t: 'W' })
        listen()
        return new Promise<void>((release) => (free = release))
      })
      .catch(noop)
  }

  function leave(code?: number, reason?: string) {
    if (!me) return
    resign(code, reason)
    post({ t: 'G' })
    channel?.close()
    free()
    queued.abort()
    cancel(silence)
    me = leaderId = channel = undefined
    term = 0
  }

  const onSignal = (signal: string) => {
    if (signal === 'visible' || signal === 'hidden') {
      visible = signal === 'visible'
      check()
    }
    // Into the back/forward cache: hand the connection over (a cached leader would keep the
    // lock from every other tab) and queue for nothing (a granted lock evicts a cached page).
    if (signal === 'pagehide') leave()
    if (signal === 'pageshow' && !stopped && !me) enter()
  }
  let unlisten = env.listen(onSignal)

  function submit(item: Item) {
    out.set(item.n, item)
    if (ready) run(me!, wire(item))
    else toLeader({ t: 'I', i: wire(item) })
  }

  function call(k: 'r' | 'd', v: any, ms: number | undefined, signal?: AbortSignal) {
    return new Promise<any>((ok, no) => {
      if (!isObject(v)) return no(new TypeError(`${k === 'r' ? 'request' : 'deliver'}: the message must be an object`))
      if (stopped) return no(closed(v))
      if (signal?.aborted) return no(signal.reason)
      const n = ++seq
      const onAbort = () => {
        if (!out.has(n)) return
        settle(n, false, signal!.reason)
        if (ready) calls.get(`${me} ${n}`)?.[0].abort()
        else toLeader({ t: 'X', n })
      }
      signal?.addEventListener('abort', onAbort)
      // The id of a delivery is set here, once: a copy re-sent to a new leader keeps it, so the server can de-duplicate.
      if (k === 'd') v = { [rest.request?.idField ?? 'id']: uid(), ...v }
      submit({ n, k, v, d: ms === undefined ? ms : now() + ms, ok, no, off: () => signal?.removeEventListener('abort', onAbort) })
    })
  }

  function write(data: any, message: unknown) {
    if (stopped) {
      report(closed(message))
      return false
    }
    if (ready) return socket.sendRaw(data)
    submit({ n: ++seq, k: 's', v: data })
    // As for createSocket: true when the frame goes to an open connection now (the leader's), false when it waits for one.
    return state.status === 'open'
  }

  function connect() {
    if (stopped) {
      stopped = false
      unlisten = env.listen(onSignal)
      setState({ ...state, status: 'connecting', retryAt: null })
      enter()
    } else if (ready) {
      socket.connect()
      for (const key of keys.keys()) sync(key)
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
    send(message) {
      let data: unknown = message
      if (!isBinary(message))
        try {
          data = codec === 'text' ? String(message) : codec === 'json' ? JSON.stringify(message) : codec.encode(message as Out)
          if (data === undefined) throw new TypeError('nothing to send')
        } catch (cause) {
          throw new MessageError('encode failed — see cause', { data: message, cause })
        }
      return write(data, message)
    },
    sendRaw(data) {
      if (typeof data !== 'string' && !isBinary(data)) throw new TypeError('sendRaw: data must be a string or binary — use send() for messages')
      return write(data, data)
    },
    request: (message, options = {}) => call('r', message, options.timeout ?? rest.request?.timeout ?? 10_000, options.signal),
    deliver: (message, options = {}) => call('d', message, options.ttl ?? rest.delivery?.ttl, options.signal),
    subscribe(key, spec, onMessage) {
      if (stopped) {
        report(closed())
        return noop
      }
      let entry = local.get(key)
      const fresh = !entry
      if (!entry) local.set(key, (entry = { spec, holders: new Set() }))
      // Only messages that `match` let through reach a holder: they are `M`.
      const holder = (message: In) => onMessage?.(message as never)
      const current = entry
      current.holders.add(holder)
      if (fresh) {
        if (ready) put(me!, key, spec)
        else toLeader(subscribeMessage(key, spec))
      }
      return () => {
        if (!current.holders.delete(holder) || current.holders.size || local.get(key) !== current) return
        local.delete(key)
        if (ready) put(me!, key)
        else toLeader({ t: 'U', k: key, u: value(current.spec.unsubscribe) })
      }
    },
    connect,
    reconnect() {
      if (stopped) connect()
      else if (ready) socket.reconnect()
      else toLeader({ t: 'K', m: 'reconnect' })
    },
    close(code = 1000, reason = '') {
      if (code !== 1000 && !(code >= 3000 && code < 5000)) throw new RangeError(`close: code ${code} — use 1000 or 3000–4999`)
      if (stopped) return
      stopped = true
      for (const { n, k } of out.values()) if (k !== 's') settle(n, false, closed())
      leave(code, reason)
      unlisten()
      const close = { code, reason, wasClean: true }
      setState({ ...state, status: 'closed', retryAt: null, lastClose: close })
      emit('close', { ...close, willReconnect: false })
    },
  }
}
