// The outbox page: `window.harness` records a socket (harness.js) and `window.outbox`
// drives an `indexedDBStore` directly and reads its database, for e2e/outbox*.test.ts.
import * as steadysocket from 'steadysocket'
import { indexedDBStore } from 'steadysocket/outbox'

/** Settles a promise into a plain value the test can compare: `ok`, `rejected:NAME`, or the result. */
const settle = (promise) =>
  Promise.resolve(promise).then(
    (value) => value ?? 'ok',
    (error) => {
      window.outbox.errors.push(error)
      return `rejected:${error?.name}`
    },
  )

/** Records as the test compares them: binary data as a plain array of bytes. */
const plain = (records) =>
  records.map(({ data, ...record }) => ({ ...record, data: typeof data === 'string' ? data : { bytes: Array.from(data) } }))

window.outbox = {
  indexedDBStore,
  /** The store of this page (created by `open`). */
  store: undefined,
  /** Everything a call rejected with, in order. */
  errors: [],
  open(name) {
    window.outbox.store = indexedDBStore({ name })
    return window.outbox.store
  },
  put: (record) => settle(window.outbox.store.put(record)),
  putBytes: (record, bytes, [from, to] = [0, bytes.length]) =>
    settle(window.outbox.store.put({ ...record, data: new Uint8Array(bytes).subarray(from, to) })),
  delete: (key) => settle(window.outbox.store.delete(key)),
  adopt: () => settle(window.outbox.store.adopt().then(plain)),
  /** How each `deliver` call settled, in call order: `ok` or `rejected:NAME`. */
  outcomes: [],
  deliver(message) {
    const index = window.outbox.outcomes.push('pending') - 1
    return settle(window.harness.socket.deliver(message)).then((outcome) => (window.outbox.outcomes[index] = outcome))
  },
  /** Every row in the database named `steadysocket:NAME`, in key order, as stored. */
  rows: (name) =>
    new Promise((resolve, reject) => {
      const request = indexedDB.open(`steadysocket:${name}`)
      request.onupgradeneeded = () => request.result.createObjectStore('frames', { keyPath: 'key' })
      request.onerror = () => reject(request.error)
      request.onsuccess = () => {
        const db = request.result
        const all = db.transaction('frames').objectStore('frames').getAll()
        all.onsuccess = () => {
          db.close()
          resolve(plain(all.result))
        }
        all.onerror = () => reject(all.error)
      }
    }),
}
/** Polls `check` every 20 ms until it is true; rejects after 8 s with `what`. */
async function until(check, what) {
  for (const deadline = Date.now() + 8000; Date.now() < deadline; ) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error(`outbox page: still waiting for ${what} after 8 s`)
}

/** Resolves once the database of store `name` holds `count` frames. */
window.outbox.untilRows = (name, count) =>
  until(async () => (await window.outbox.rows(name)).length === count, `${count} stored frames`)

/** Resolves once `count` pages hold a tab lock of store `name` (a closed page releases it a moment after it closed). */
window.outbox.untilTabs = (name, count) =>
  until(
    async () =>
      ((await navigator.locks.query()).held ?? []).filter((lock) => lock.name.startsWith(`steadysocket:${name}:tab:`)).length === count,
    `${count} tab locks`,
  )

window.installHarness(steadysocket)
