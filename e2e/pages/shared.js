// Records what one tab's shared socket does in `window.tab`, for e2e/shared.test.ts.
import { createSharedSocket } from '/dist/shared.js'

const tab = {
  socket: undefined,
  /** `role:R`, `open`, `open:reconnect`, `close:CODE:retry|stop`, `error:NAME`. */
  events: [],
  messages: [],
  releases: new Map(),
  open(url, options = {}) {
    tab.socket = createSharedSocket(url, {
      name: 'e2e:user-1',
      retry: { initialDelay: 50, maxDelay: 200 },
      ...options,
      on: {
        role: (role) => tab.events.push(`role:${role}`),
        open: ({ reconnect }) => tab.events.push(reconnect ? 'open:reconnect' : 'open'),
        close: ({ code, willReconnect }) => tab.events.push(`close:${code}:${willReconnect ? 'retry' : 'stop'}`),
        error: (error) => tab.events.push(`error:${error.name}`),
        message: (message) => tab.messages.push(message),
      },
    })
  },
  subscribe(key, spec) {
    tab.releases.set(key, tab.socket.subscribe(key, spec))
  },
  release(key) {
    tab.releases.get(key)?.()
  },
  role: () => tab.socket?.role,
  status: () => tab.socket?.state.status,
}
window.tab = tab
// Tells a page restored from the back/forward cache apart from a new load.
window.addEventListener('pageshow', (event) => event.persisted && tab.events.push('pageshow:persisted'))
