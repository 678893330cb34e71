import { browserEnvironment, type Environment, type EnvironmentSignal } from 'steadysocket'

let forcedOffline = false
const listeners = new Set<(signal: EnvironmentSignal) => void>()
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

export const isForcedOffline = () => forcedOffline

/** Switches the page's network view and tells the socket, as the browser's events would. */
export function setForcedOffline(offline: boolean): void {
  forcedOffline = offline
  const signal: EnvironmentSignal = environment.online?.() ? 'online' : 'offline'
  for (const listener of listeners) listener(signal)
}
