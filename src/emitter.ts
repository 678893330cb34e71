type Listener = ((payload: any) => void) & { off?: boolean }

export interface Emitter<Events> {
  on<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): () => void
  /** Calls the listeners of `event`; returns how many there were. */
  emit<K extends keyof Events>(event: K, payload: Events[K]): number
}

/**
 * A tiny emitter with `EventTarget`'s rules: a listener added during an emit is not called
 * for it, one removed before its turn is not called, and one that throws does not stop
 * the others (its error goes to `onListenerError`, or to `console.error` for `error`).
 */
export function createEmitter<Events>(onListenerError: (error: unknown) => void): Emitter<Events> {
  const all: { [K in keyof Events]?: Listener[] } = {}
  return {
    on(event, listener) {
      // Each registration is its own function, so adding one function twice and removing each works.
      const entry: Listener = (payload) => listener(payload)
      // Copy on write: an emit in progress keeps iterating the array it started with.
      all[event] = [...(all[event] ?? []), entry]
      return () => {
        entry.off = true
        all[event] = all[event]!.filter((other) => other !== entry)
      }
    },
    emit(event, payload) {
      const list = all[event] ?? []
      for (const listener of list)
        if (!listener.off)
          try {
            listener(payload)
          } catch (error) {
            if (event === 'error') console.error(error)
            else onListenerError(error)
          }
      return list.length
    },
  }
}
