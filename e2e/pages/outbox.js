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
window.installHarness(steadysocket)
