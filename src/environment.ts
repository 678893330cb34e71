import type { Environment, EnvironmentSignal } from './types'

/**
 * The browser as an `Environment`: `navigator.onLine`, `online`/`offline`,
 * `visibilitychange`, and `pagehide`/`pageshow` when the page enters or leaves the
 * back/forward cache. Outside a browser: always online, no signals.
 */
export function browserEnvironment(): Environment {
  return {
    online: () => globalThis.navigator?.onLine !== false,
    listen(listener) {
      if (typeof document === 'undefined') return () => {}
      // Only bfcache entry and exit matter: a plain unload ends the page anyway, and an
      // `unload` listener would make the page ineligible for the cache.
      const handle = ({ type, persisted }: Event & { persisted?: boolean }) =>
        type[0] === 'p' // pagehide, pageshow
          ? persisted && listener(type as EnvironmentSignal)
          : listener((type[0] === 'v' ? document.visibilityState : type) as EnvironmentSignal)
      const each = (method: 'addEventListener' | 'removeEventListener') => {
        for (const type of ['online', 'offline', 'pagehide', 'pageshow']) window[method](type, handle)
        document[method]('visibilitychange', handle)
      }
      each('addEventListener')
      return () => each('removeEventListener')
    },
  }
}
