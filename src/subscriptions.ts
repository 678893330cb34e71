import type { SubscriptionSpec } from './types'

interface Entry {
  spec: SubscriptionSpec<any, any>
  holders: number
  handlers: Set<(message: any) => void>
}

export interface Subscriptions {
  /** Active subscriptions by key, in the order they were made. */
  readonly entries: Map<string, Entry>
  /** Adds a holder; `fresh` is true for the first holder of the key. `release` returns the spec when the last holder left. */
  add(key: string, spec: SubscriptionSpec<any, any>, handler?: (message: any) => void): { fresh: boolean; release: () => SubscriptionSpec<any, any> | undefined }
  /** Hands a message to the handlers of every subscription it matches; a handler that throws goes to `onError`. */
  route(message: unknown, onError: (error: unknown) => void): void
}

/** Reference-counted subscriptions by key. */
export function createSubscriptions(): Subscriptions {
  const entries = new Map<string, Entry>()
  return {
    entries,
    add(key, spec, handler) {
      let entry = entries.get(key)
      const fresh = !entry
      if (!entry) entries.set(key, (entry = { spec, holders: 0, handlers: new Set() }))
      const held = entry
      held.holders++
      // A wrapper per holder, so one function used by two holders is released once each.
      const own = handler && ((message: unknown) => handler(message))
      if (own) held.handlers.add(own)
      let released = false
      return {
        fresh,
        release() {
          if (released) return
          released = true
          if (own) held.handlers.delete(own)
          if (--held.holders || entries.get(key) !== held) return
          entries.delete(key)
          return held.spec
        },
      }
    },
    route(message, onError) {
      for (const { spec, handlers } of entries.values())
        if (handlers.size && (!spec.match || spec.match(message)))
          for (const handler of handlers)
            try {
              handler(message)
            } catch (error) {
              onError(error)
            }
    },
  }
}
