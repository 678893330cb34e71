import type { Clock } from './clock'
import { TimeoutError } from './errors'

type Settle = (error: unknown, reply?: unknown) => void

export interface Requests {
  /** Requests and deliveries waiting for their reply or acknowledgement, by id. */
  readonly pending: Map<string, Settle>
  /**
   * Sends `message` with an id and resolves with the reply (or acknowledgement) that
   * carries it. `send` gets the message with its id and the function that settles it;
   * it returns what must be undone when the request settles first (its queued frame).
   */
  start(
    message: object,
    timeout: number,
    signal: AbortSignal | undefined,
    send: (message: Record<string, unknown>, id: string, settle: Settle) => () => void,
  ): Promise<any>
  /** Settles what `message` answers; `true` when it answered something. */
  settle(message: unknown): boolean
  rejectAll(error: Error): void
  /** A fresh id: unique across sockets and page loads, and unlike ids servers pick. */
  id(): string
}

/**
 * Correlates requests (and deliveries) with replies by an id field, or by `isAck` for
 * deliveries; every timer, abort listener and queued frame is released on settlement.
 */
export function createRequests(
  idField: string,
  { setTimeout, clearTimeout }: Clock,
  isAck: ((message: any, id: string) => boolean) | undefined,
  onError: (error: unknown) => void,
): Requests {
  const pending = new Map<string, Settle>()
  // A prefix made of the time and a random part: ids stay unique across page loads (a server
  // can de-duplicate deliveries by id) and cannot be mistaken for a server's own "1", "2"…
  const prefix = `ss${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}-`
  let counter = 0
  const id = () => prefix + ++counter
  return {
    pending,
    id,
    start(message, timeout, signal, send) {
      return new Promise((resolve, reject) => {
        const own = (message as Record<string, unknown>)[idField]
        const key = (own ?? id()) as string
        if (signal?.aborted) return reject(signal.reason)
        if (pending.has(key)) return reject(new TypeError(`${idField} ${key} is already pending`))
        let undo = () => {}
        const onAbort = () => settle(signal!.reason)
        const timer = setTimeout(() => settle(new TimeoutError(`no reply in ${timeout} ms`)), timeout)
        const settle: Settle = (error, reply) => {
          clearTimeout(timer)
          signal?.removeEventListener('abort', onAbort)
          pending.delete(key)
          // A request that settled first is never sent later.
          undo()
          if (error) reject(error)
          else resolve(reply)
        }
        signal?.addEventListener('abort', onAbort)
        pending.set(key, settle)
        try {
          undo = send(own == null ? { ...message, [idField]: key } : (message as Record<string, unknown>), key, settle)
        } catch (error) {
          settle(error)
        }
      })
    },
    settle(message) {
      let settle = pending.get((message as Record<string, any> | null)?.[idField])
      if (!settle && isAck)
        for (const [key, other] of pending)
          try {
            if (isAck(message, key)) {
              settle = other
              break
            }
          } catch (error) {
            onError(error)
          }
      settle?.(undefined, message)
      return !!settle
    },
    rejectAll(error) {
      for (const settle of pending.values()) settle(error)
    },
  }
}
