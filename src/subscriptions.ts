import type { SubscriptionSpec } from './types'

type Handler = (message: any) => void

/** Active subscriptions by key, in the order they were made. */
export type Subscriptions = Map<string, { spec: SubscriptionSpec<any, any>; holders: Set<Handler> }>

/**
 * Adds a holder of `key` (reference counting); returns its release function, which
 * returns the spec when the last holder left. Releasing twice is a no-op.
 */
export function hold(subscriptions: Subscriptions, key: string, spec: SubscriptionSpec<any, any>, handler?: Handler) {
  const entry = subscriptions.get(key) ?? { spec, holders: new Set() }
  subscriptions.set(key, entry)
  // One wrapper per holder: it counts the holder, and a function held twice is released once each.
  const holder: Handler = (message) => handler?.(message)
  entry.holders.add(holder)
  return () => {
    if (entry.holders.delete(holder) && !entry.holders.size) {
      subscriptions.delete(key)
      return entry.spec
    }
  }
}

/** Hands a message to the holders of every subscription it matches; a handler (or `match`) that throws goes to `onError`. */
export function route(subscriptions: Subscriptions, message: unknown, onError: (error: unknown) => void) {
  for (const { spec, holders } of subscriptions.values())
    for (const holder of holders)
      try {
        if (!spec.match || spec.match(message)) holder(message)
      } catch (error) {
        onError(error)
      }
}
