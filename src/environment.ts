import type { Environment, EnvironmentSignal } from './types'

/**
 * The browser as an `Environment`: `navigator.onLine`, `online`/`offline`,
 * `visibilitychange`, `freeze`/`resume`, and `pagehide`/`pageshow` when the page enters or
 * leaves the back/forward cache. Outside a browser: always online, no signals.
 */
export function browserEnvironment(): Required<Pick<Environment, 'online' | 'listen'>> {
  return {
    online: () => globalThis.navigator?.onLine !== false,
    listen(listener) {
      if (typeof document === 'undefined') return () => {}
      // Only pagehide/pageshow carry `persisted`, false for a plain navigation: only bfcache
      // entry and exit matter, and an `unload` listener would make the page ineligible for it.
      const handle = ({ type, persisted }: Event & { persisted?: boolean }) => {
        if (persisted !== false) listener((type === 'visibilitychange' ? document.visibilityState : type) as EnvironmentSignal)
      }
      const each = (method: 'addEventListener' | 'removeEventListener') => {
        for (const type of ['online', 'offline', 'pagehide', 'pageshow']) window[method](type, handle)
        // Page Lifecycle (Chromium): `resume` follows a freeze, which fails the page's WebSocket.
        for (const type of ['visibilitychange', 'freeze', 'resume']) document[method](type, handle)
      }
      each('addEventListener')
      return () => each('removeEventListener')
    },
  }
}
