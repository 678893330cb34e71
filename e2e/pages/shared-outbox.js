// A tab of e2e/shared-outbox.test.ts: `window.tab` (shared.js) opened with an IndexedDB
// store, and in `window.durable` how each of this tab's deliver() calls settled.
import { indexedDBStore } from 'steadysocket/outbox'
import '/shared.js'

const durable = {
  /** By label, in call order: `pending`, `ok` or `rejected:NAME`. */
  outcomes: {},
  /** The delivery ids of every `restored` event this tab heard. */
  restored: [],
  open(url, name) {
    window.tab.open(url, { name, queue: { store: indexedDBStore({ name }) } })
    window.tab.socket.on('restored', ({ deliveries }) => durable.restored.push(...deliveries))
  },
  /** Delivers `{ label }` for each label, in order, without waiting. */
  deliver(labels) {
    for (const label of labels) {
      durable.outcomes[label] = 'pending'
      window.tab.socket.deliver({ label }).then(
        () => (durable.outcomes[label] = 'ok'),
        (error) => (durable.outcomes[label] = `rejected:${error?.name}`),
      )
    }
  },
}
window.durable = durable
