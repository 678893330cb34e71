// A classic script, so the IIFE page needs no module support: it records what a socket
// does in `window.harness` for the tests to read with `page.waitForFunction`.
/** @param {typeof import('steadysocket')} lib */
window.installHarness = (lib) => {
  /** @type {import('../harness').Harness} */
  const harness = {
    lib,
    socket: undefined,
    events: [],
    statuses: [],
    messages: [],
    binaries: [],
    urlCalls: 0,
    open(urls, options = {}) {
      if (harness.socket) throw new Error('harness.open: a socket is open already')
      harness.socket = lib.createSocket(
        () => urls[Math.min(harness.urlCalls++, urls.length - 1)],
        {
          ...options,
          on: {
            open: ({ reconnect }) => harness.events.push(reconnect ? 'open:reconnect' : 'open'),
            close: ({ code, reason, willReconnect }) =>
              harness.events.push(`close:${code}:${reason}:${willReconnect ? 'retry' : 'stop'}`),
            reconnecting: ({ attempt }) => harness.events.push(`reconnecting:${attempt}`),
            error: (error) => harness.events.push(`error:${error.name}`),
            message: (message) => harness.messages.push(message),
            binary: (data) =>
              harness.binaries.push({
                kind: Object.prototype.toString.call(data),
                bytes: data instanceof ArrayBuffer ? Array.from(new Uint8Array(data)) : [],
              }),
            state: ({ status }) => {
              if (harness.statuses.at(-1) !== status) harness.statuses.push(status)
            },
          },
        },
      )
      if (harness.statuses.length === 0) harness.statuses.push(harness.socket.state.status)
    },
    send: (message) => must(harness.socket).send(message),
    sendBytes: (bytes) => must(harness.socket).send(new Uint8Array(bytes)),
    status: () => must(harness.socket).state.status,
  }
  window.harness = harness
}

/** @template T @param {T | undefined} socket @returns {T} */
function must(socket) {
  if (!socket) throw new Error('harness: call harness.open(urls, options) first')
  return socket
}
