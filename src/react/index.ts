import {
  createContext,
  createElement,
  useContext,
  useEffect,
  useInsertionEffect,
  useMemo,
  useRef,
  useSyncExternalStore,
  type ReactNode,
} from 'react'
import {
  createSocket,
  type SocketEventName,
  type SocketEvents,
  type SocketOptions,
  type SocketState,
  type SteadySocket,
  type SubscriptionSpec,
} from 'steadysocket'

// Declared here so the declaration build (which has no Node types) compiles; bundlers
// replace it, and React itself needs it defined wherever React runs.
declare const process: { env: { NODE_ENV?: string } }

type Url = string | URL | (() => string | URL | Promise<string | URL>)

/** Options of `useSocket`: those of `createSocket` (or of `factory`), plus the name the socket is shared under. */
export type UseSocketOptions<In = unknown, Out = unknown> = SocketOptions<In, Out> & {
  /** Components using the same key share one socket. @default the URL as a string */
  key?: string
} & (
    | { factory?: undefined }
    | {
        /** Creates the socket from the url and the other options (for example `createSharedSocket`, whose options go alongside). @default createSocket */
        factory: (url: Url, options: never) => SteadySocket<In, Out>
        [option: string]: unknown
      }
  )

interface Entry {
  socket: SteadySocket<any, any>
  // Counted in effects, never in render: a render may not commit.
  holders: number
  timer?: ReturnType<typeof setTimeout>
  // The first creator's url and options; development only, for the warning.
  first?: unknown
  warned?: boolean
}

const GRACE = 1000
const registry = new Map<string, Entry>()
const noop = () => {}
const never = () => noop
const no = () => false
const idle: SocketState = { status: 'idle', attempt: 0, retryAt: null, queued: 0, unacked: 0, rtt: null, lastClose: null, online: true }

// What useSocket returns where no socket may exist (server rendering, the hydration
// render): every hook works on it and nothing is sent, so components need no branches.
const inert: SteadySocket<any, any> = {
  state: idle,
  on: never,
  subscribe: never,
  send: no,
  sendRaw: no,
  request: () => new Promise(noop),
  deliver: () => new Promise(noop),
  connect: noop,
  reconnect: noop,
  close: noop,
}

// Functions count as equal because inline callbacks differ on every render; objects are
// compared a few levels down because inline option objects (retry: {…}) are new each render.
const same = (a: any, b: any, depth: number): boolean =>
  Object.is(a, b) ||
  (typeof a === 'function' && typeof b === 'function') ||
  (depth > 0 &&
    !!a &&
    !!b &&
    typeof a === 'object' &&
    typeof b === 'object' &&
    Object.keys(a).length === Object.keys(b).length &&
    Object.keys(a).every((k) => same(a[k], b[k], depth - 1)))

const needsKey = (): never => {
  throw new TypeError('useSocket: a function url needs options.key')
}

function release(key: string, entry: Entry) {
  clearTimeout(entry.timer)
  entry.timer = setTimeout(() => {
    if (registry.get(key) === entry) registry.delete(key)
    entry.socket.close()
  }, GRACE)
}

/**
 * Returns the socket shared by every component using the same key, opened on first use
 * and closed 1 s after the last of them unmounts.
 * @param url A URL, or a function called before every attempt (then `options.key` is required).
 * @example
 * function Status() {
 *   const socket = useSocket('wss://example.com/live')
 *   const status = useSocketState(socket, (state) => state.status)
 *   return <button onClick={() => socket.send({ type: 'hello' })}>{status}</button>
 * }
 */
export function useSocket<S extends SteadySocket<any, any>>(url: Url, options: UseSocketOptions<any, any> & { factory: (url: Url, options: never) => S }): S
export function useSocket<In = unknown, Out = unknown>(url: Url, options?: UseSocketOptions<In, Out>): SteadySocket<In, Out>
export function useSocket(url: Url, options: UseSocketOptions<any, any> = {}): SteadySocket<any, any> {
  const { key = typeof url === 'function' ? needsKey() : String(url), factory = createSocket, ...rest } = options
  let entry: Entry | undefined
  // False while rendering on the server and during hydration: no socket is created there.
  if (useSyncExternalStore(never, () => true, no)) {
    entry = registry.get(key)
    if (!entry) registry.set(key, (entry = { socket: factory(url, rest as never), holders: 0 }))
    if (process.env.NODE_ENV !== 'production') {
      const given = [String(url), rest]
      if (!entry.warned && !same((entry.first ??= given), given, 3)) {
        entry.warned = true
        console.warn(`[steadysocket] useSocket: options differ for the key "${key}"; the first ones are used — give other options another key`)
      }
    }
    // The socket is created during render so the first render already has it, but a render
    // may never commit (StrictMode's extra render, a suspended or interrupted one): until an
    // effect holds it, a socket nobody holds is closed after the grace period.
    if (!entry.holders) release(key, entry)
  }
  useEffect(() => {
    if (!entry) return
    // Committed after the grace period closed it (a render that took over 1 s to commit):
    // revive this same object, since children already hold it.
    if (registry.get(key) !== entry) {
      registry.set(key, entry)
      entry.socket.connect()
    }
    clearTimeout(entry.timer)
    entry.holders++
    return () => {
      if (!--entry.holders) release(key, entry)
    }
  }, [entry])
  return entry?.socket ?? inert
}

/**
 * Returns the socket's state, or what `selector` picks from it, re-rendering only when that changes (`'idle'` on the server).
 */
export function useSocketState<T = SocketState>(
  socket: SteadySocket<any, any>,
  selector: (state: SocketState) => T = (state) => state as T,
): T {
  // A selector may build a new object each call; remembering the last input keeps
  // getSnapshot stable while the state is the same, as React requires.
  let last: [SocketState, T] | undefined
  const select = (state: SocketState) => (last && last[0] === state ? last : (last = [state, selector(state)]))[1]
  return useSyncExternalStore(
    useMemo(() => (changed: () => void) => socket.on('state', changed), [socket]),
    () => select(socket.state),
    () => select(idle),
  )
}

// Updated in an insertion effect, not during render: a render that never commits must
// not leak its value, and insertion effects run before any effect that reads it.
function useLatest<T>(value: T) {
  const ref = useRef(value)
  useInsertionEffect(() => {
    ref.current = value
  })
  return ref
}

/**
 * Listens to a socket event while the component is mounted, always calling the latest `handler`.
 */
export function useSocketEvent<In, K extends SocketEventName>(
  socket: SteadySocket<In, any>,
  event: K,
  handler: (payload: SocketEvents<In>[K]) => void,
): void {
  const latest = useLatest(handler)
  useEffect(() => socket.on(event, (payload) => latest.current(payload)), [socket, event])
}

/**
 * Holds the subscription `key` while the component is mounted (shared with other holders of the key), passing matching messages to the latest `onMessage`.
 */
export function useSubscription<In, Out, M extends In = In>(
  socket: SteadySocket<In, Out>,
  key: string,
  spec: SubscriptionSpec<In, Out, M>,
  onMessage?: (message: NoInfer<M>) => void,
): void {
  // The core keeps the spec object of a key and reads its fields at each (re)connect and
  // release: one object per key, updated on commit, makes it see the latest render's spec
  // (a resume point in `subscribe`) while a changed key leaves the old key's spec alone.
  const live = useMemo(() => ({}) as SubscriptionSpec<In, Out, M>, [key])
  const handler = useLatest(onMessage)
  useInsertionEffect(() => void Object.assign(live, spec))
  useEffect(() => {
    const release = socket.subscribe(key, live, (message) => handler.current?.(message))
    // Released in a microtask: StrictMode's unmount-and-mount (and a route change that
    // keeps the key) subscribe again first, so no unsubscribe/subscribe pair is sent.
    return () => queueMicrotask(release)
  }, [socket, key])
}

const Context = createContext<SteadySocket<any, any> | null>(null)

/** Makes `socket` available to `useSocketContext()` below it, for apps that create the socket outside React. */
export function SocketProvider(props: { socket: SteadySocket<any, any>; children?: ReactNode }): ReactNode {
  return createElement(Context.Provider, { value: props.socket }, props.children)
}

/** Returns the socket of the nearest `SocketProvider`; throws if there is none. */
export function useSocketContext<In = unknown, Out = unknown>(): SteadySocket<In, Out> {
  const socket = useContext(Context)
  if (!socket) throw new Error('useSocketContext: wrap the tree in <SocketProvider socket={socket}>')
  return socket
}
