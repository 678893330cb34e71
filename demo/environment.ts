import { browserEnvironment, type Environment, type EnvironmentSignal } from 'steadysocket'

let forcedOffline = false
const listeners = new Set<(signal: EnvironmentSignal) => void>()
const watchers = new Set<() => void>()
const browser = browserEnvironment()

/**
 * The browser's environment with an "offline" switch: the page can take the socket
 * offline in any browser, without DevTools, through the documented `environment` option.
 */
export const environment: Environment = {
  online: () => !forcedOffline && browser.online(),
  listen(listener) {
    listeners.add(listener)
    // While switched off, the browser's own `online` must not bring the socket back.
    const stop = browser.listen((signal) => {
      if (!(forcedOffline && signal === 'online')) listener(signal)
    })
    return () => {
      listeners.delete(listener)
      stop()
    }
  },
}

// A lost network reaches every tab, and so does this switch: only the leader tab holds the
// connection, so the switch must reach it whichever tab was pressed. A tab opened later
// asks ('ask') and an offline tab answers.
const channel = typeof BroadcastChannel === 'undefined' ? undefined : new BroadcastChannel('steadysocket-demo:offline')
if (channel) {
  channel.onmessage = ({ data }: MessageEvent<boolean | 'ask'>) => {
    if (data !== 'ask') apply(data)
    else if (forcedOffline) channel.postMessage(true)
  }
  channel.postMessage('ask')
}

function apply(offline: boolean) {
  if (offline === forcedOffline) return
  forcedOffline = offline
  const signal: EnvironmentSignal = environment.online?.() ? 'online' : 'offline'
  for (const listener of listeners) listener(signal)
  for (const watcher of watchers) watcher()
}

export const isForcedOffline = () => forcedOffline

/** Calls `watcher` whenever the switch changes, in this tab or another; returns its removal. */
export function watchForcedOffline(watcher: () => void): () => void {
  watchers.add(watcher)
  return () => void watchers.delete(watcher)
}

/** Switches every tab's network view and tells their sockets, as the browser's events would. */
export function setForcedOffline(offline: boolean): void {
  apply(offline)
  channel?.postMessage(offline)
}
