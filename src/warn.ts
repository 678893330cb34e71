import type { SteadySocketError } from './errors'

export interface Warnings {
  /** Called with every error no `error` listener took. */
  warn(error: SteadySocketError): void
  /** Called when an outage ends: on every open (and on a stop, so that its error shows). */
  opened(): void
}

/**
 * What the socket writes to `console.warn` while nothing listens to `error` (DESIGN 7):
 * every error, five lines per 10 s at most, the next line counting those held back; each
 * kind of connection failure once per outage. Only the error's name and message are
 * written: never its data (message bodies), a frame a parser quoted, or a query string (tokens).
 */
export function createWarnings(now = Date.now): Warnings {
  // Connection failures shown in this outage, by message.
  const failures = new Set<string>()
  let since = -Infinity
  let lines = 0
  let held = 0
  return {
    warn({ name, message }) {
      const failure = name === 'ConnectionError' || name === 'TimeoutError'
      // Every retry of an outage fails the same way: the first failure shown says it.
      if (failure && failures.has(message)) return
      if (now() - since > 10_000) {
        since = now()
        lines = 0
      }
      if (lines++ > 4) return void held++
      if (failure) failures.add(message)
      // A query string may hold a token; a parser's message may quote the frame (a message body).
      const text = message.replace(name === 'MessageError' ? /(?<=\S)\?[^\s"']+|"[^"]+"/g : /(?<=\S)\?[^\s"']+/g, '…')
      console.warn(`[steadysocket] ${name}: ${text}${held ? ` (${held} more not shown)` : ''}`)
      held = 0
    },
    opened() {
      failures.clear()
    },
  }
}
