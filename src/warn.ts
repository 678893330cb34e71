import type { SteadySocketError } from './errors'

export interface Warnings {
  /** Called with every error no `error` listener took. */
  warn(error: SteadySocketError): void
  /** Called on every open: an outage ended. */
  opened(): void
}

/** What the socket writes to `console.warn` while nothing listens to `error` (DESIGN 7). */
export function createWarnings(): Warnings {
  let warned = false
  return {
    warn(error) {
      if (warned) return
      warned = true
      console.warn('[steadysocket]', error.message, '(shown once: listen to "error")')
    },
    opened() {},
  }
}
