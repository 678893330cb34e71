import type { Environment, EnvironmentSignal } from './types'

/**
 * The browser as an `Environment`: `navigator.onLine`, `online`/`offline`,
 * `visibilitychange`, and `pagehide`/`pageshow` when the page enters or leaves the
 * back/forward cache. Outside a browser: always online, no signals.
 */
export function browserEnvironment(): Environment {
  const win = typeof window === 'undefined' ? undefined : window
  return {
    online: () => globalThis.navigator?.onLine !== false,
    listen(listener: (signal: EnvironmentSignal) => void) {
      if (!win) return () => {}
      const doc = win.document
      const handlers: [EventTarget, string, (event: any) => void][] = [
        [win, 'online', () => listener('online')],
        [win, 'offline', () => listener('offline')],
        [doc, 'visibilitychange', () => listener(doc.visibilityState === 'hidden' ? 'hidden' : 'visible')],
        // Only bfcache entry/exit matters; a plain unload ends the page anyway, and an
        // `unload` listener would make the page ineligible for the cache.
        [win, 'pagehide', (event: PageTransitionEvent) => event.persisted && listener('pagehide')],
        [win, 'pageshow', (event: PageTransitionEvent) => event.persisted && listener('pageshow')],
      ]
      for (const [target, type, handler] of handlers) target.addEventListener(type, handler)
      return () => {
        for (const [target, type, handler] of handlers) target.removeEventListener(type, handler)
      }
    },
  }
}
