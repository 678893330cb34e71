type Listener = (payload: any) => void

export interface Emitter<Events> {
  on<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): () => void
  /** Calls the listeners of `event`; returns how many there were. */
  emit<K extends keyof Events>(event: K, payload: Events[K]): number
}

/**
 * A tiny emitter. A listener that throws does not stop the others: its error goes to
 * `onListenerError` (or to `console.error` when it was an `error` listener).
 */
export function createEmitter<Events>(onListenerError: (error: unknown) => void): Emitter<Events> {
  const all = new Map<keyof Events, Set<Listener>>()
  return {
    on(event, listener) {
      const set = all.get(event) ?? new Set()
      all.set(event, set)
      // Wrapping makes each registration distinct, so removing twice or adding the same function twice stays correct.
      const entry: Listener = (payload) => listener(payload)
      set.add(entry)
      return () => void set.delete(entry)
    },
    emit(event, payload) {
      const set = all.get(event) ?? []
      for (const listener of set)
        try {
          listener(payload)
        } catch (error) {
          if (event === 'error') console.error(error)
          else onListenerError(error)
        }
      return (set as Set<Listener>).size
    },
  }
}
