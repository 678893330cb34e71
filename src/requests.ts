import { TimeoutError } from './errors'
import type { Clock } from './heartbeat'

type Settle = (error: unknown, reply?: unknown) => void

export interface Requests {
  /** Pending requests by id; empty once every request has settled. */
  readonly pending: Map<unknown, Settle>
  start(
    message: object,
    options: { timeout?: number; signal?: AbortSignal } | undefined,
    send: (message: object, onDrop: (error: Error) => void) => void,
  ): Promise<any>
  /** Settles the request a reply belongs to; `true` when it was one. */
  settle(reply: unknown): boolean
  rejectAll(error: Error): void
}

/** Correlates requests and replies by an id field; every timer and listener is released on settlement. */
export function createRequests(idField: string, defaultTimeout: number, { setTimeout, clearTimeout }: Clock): Requests {
  const pending = new Map<unknown, Settle>()
  let counter = 0
  return {
    pending,
    start(message, { timeout = defaultTimeout, signal } = {}, send) {
      return new Promise((resolve, reject) => {
        const own = (message as Record<string, unknown>)[idField]
        const id = own ?? `${++counter}`
        if (signal?.aborted) return reject(signal.reason)
        if (pending.has(id)) return reject(new TypeError(`request: ${idField} ${id} is already pending — use a unique ${idField}`))
        const onAbort = () => settle(signal!.reason)
        const timer = setTimeout(() => settle(new TimeoutError(`request timeout: no reply with this ${idField} in ${timeout} ms`)), timeout)
        const settle: Settle = (error, reply) => {
          clearTimeout(timer)
          signal?.removeEventListener('abort', onAbort)
          pending.delete(id)
          if (error) reject(error)
          else resolve(reply)
        }
        signal?.addEventListener('abort', onAbort)
        pending.set(id, settle)
        try {
          send(own == null ? { ...message, [idField]: id } : message, settle)
        } catch (error) {
          settle(error)
        }
      })
    },
    settle(reply) {
      const settle = pending.get((reply as Record<string, unknown> | null)?.[idField])
      settle?.(undefined, reply)
      return !!settle
    },
    rejectAll(error) {
      for (const settle of pending.values()) settle(error)
    },
  }
}
