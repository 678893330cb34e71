import type { Environment } from 'steadysocket'

export interface WorkerTimersOptions {
  /** Receives one line (e.g. `console.debug`) when the page's own timers run instead of a worker's. */
  debug?: (line: string) => void
}

/** Timer functions for the `environment` option of `createSocket`. */
export type WorkerTimers = Required<Pick<Environment, 'setTimeout' | 'clearTimeout'>>

/** A timer: its callback, its delay in ms, and the page's timer id once on the fallback. */
type Timer = [fn: () => void, ms: number, native?: ReturnType<typeof setTimeout>]

// The worker: [id, ms] arms timer `id` (ms < 0 clears it) and posts `id` back when it fires.
const source = 't={};onmessage=({data:[i,m]})=>m<0?clearTimeout(t[i],delete t[i]):t[i]=setTimeout(()=>postMessage(i)||delete t[i],m)'

/**
 * Timers that run in a dedicated worker, out of reach of the throttling of hidden pages'
 * timers: `createSocket(url, { environment: workerTimers() })`. The worker starts with
 * the first timer; without `Worker`, or when a Content Security Policy blocks `blob:`
 * workers, the page's own timers run instead.
 */
export function workerTimers({ debug }: WorkerTimersOptions = {}): WorkerTimers {
  const timers = new Map<number, Timer>()
  // 0: not started yet; null: on the page's timers for good.
  let worker: Worker | null | 0 = 0
  let next = 0

  const fire = (id: number) => {
    const timer = timers.get(id)
    if (timers.delete(id)) timer![0]()
  }
  const arm = (timer: Timer, id: number) => {
    if (worker) worker.postMessage([id, timer[1]])
    else timer[2] = setTimeout(fire, timer[1], id)
  }
  const fallBack = () => {
    worker = null
    debug?.('[steadysocket] workerTimers: page timers (no Worker)')
    // A CSP refusal may arrive as an error event, after timers were posted: they start
    // again here with their full delay (the refusal comes within milliseconds).
    timers.forEach(arm)
  }

  return {
    setTimeout(fn, ms) {
      if (worker === 0) {
        try {
          worker = new Worker(URL.createObjectURL(new Blob([source])))
          worker.onmessage = ({ data }) => fire(data)
          worker.onerror = fallBack
        } catch {
          fallBack()
        }
      }
      const timer: Timer = [fn, ms]
      timers.set(++next, timer)
      arm(timer, next)
      return next
    },
    clearTimeout(id) {
      const timer = timers.get(id)
      if (timers.delete(id)) {
        if (worker) worker.postMessage([id, -1])
        else clearTimeout(timer![2])
      }
    },
  }
}
