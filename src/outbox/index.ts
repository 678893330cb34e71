import { StorageError, type OutboxRecord, type OutboxStore } from 'steadysocket'

export interface IndexedDBStoreOptions {
  /** Names the database (`'steadysocket:' + name`) and its Web Locks; include the signed-in user, e.g. `'chat:' + userId`. */
  name: string
}

// A stored frame: the core's record plus the page that owns it and its place in that
// page's queue (compared with indexedDB.cmp: page start time, page, adopted-first, position).
type Row = OutboxRecord & { owner: string; order: unknown[] }

/**
 * A durable `queue.store` in IndexedDB: frames queued by `send` and unacknowledged
 * `deliver()`s survive a reload or crash and are sent by the next page (or another tab) with
 * the same `name`. With Web Locks (secure origins), each page holds a lock for its life and
 * `adopt()` takes only the frames of pages that are gone, so no frame is sent by two tabs;
 * without them, use one tab per `name`. When IndexedDB cannot be used (private modes,
 * blocked upgrades, no IndexedDB), the first `put` or `adopt()` after it rejects with the one
 * `StorageError` and the store works in memory from then on (`adopt()` resolves `[]`);
 * `delete` never rejects; a full store rejects that `put` with the browser's `QuotaExceededError`.
 */
export function indexedDBStore({ name }: IndexedDBStoreOptions): OutboxStore {
  if (typeof name != 'string' || !name) {
    throw new TypeError(`indexedDBStore: name must be a non-empty string, got ${JSON.stringify(name)} — use one per user, e.g. 'chat:' + userId`)
  }
  const prefix = 'steadysocket:' + name
  const tabLock = (owner: string) => prefix + ':tab:' + owner
  const locks = globalThis.navigator?.locks
  const me = globalThis.crypto?.randomUUID?.() ?? Math.random().toString(36).slice(2) + Date.now().toString(36)
  const started = Date.now()
  // Keys handed out by adopt() are the stored keys themselves (they carry the old owner, so
  // they cannot collide with this page's keys); they keep their place before its own frames.
  const adopted = new Map<string, unknown[]>()
  let seq = 0
  let db: IDBDatabase | undefined
  let ready: Promise<void> | undefined
  let release: (() => void) | undefined
  let broken: StorageError | undefined
  let reported = false

  const fail = (cause: unknown) => {
    broken ??= new StorageError(
      // Without the name: it carries a user id.
      `outbox: IndexedDB failed (${(cause as Error)?.message || (cause as Error)?.name || cause}) — frames are kept in memory only and a reload loses them; check private browsing and storage settings`,
      { cause },
    )
    db?.close()
    db = undefined
  }

  const start = () =>
    (ready ??= (async () => {
      // The tab lock is held before anything is written, so no other tab ever sees a frame
      // of this page whose owner looks gone.
      if (locks) {
        await new Promise<void>((granted, reject) => {
          locks.request(tabLock(me), () => (granted(), new Promise<void>((resolve) => (release = resolve)))).catch(reject)
        })
      }
      db = await new Promise<IDBDatabase>((resolve, reject) => {
        const request = indexedDB.open(prefix)
        request.onupgradeneeded = () => request.result.createObjectStore('frames', { keyPath: 'key' })
        request.onsuccess = () => (broken ? request.result.close() : resolve(request.result))
        request.onerror = () => reject(request.error)
        request.onblocked = () => reject(new Error('upgrade blocked by another tab'))
        // Safari has left open() pending forever; adopt() must not hold the first flush.
        setTimeout(reject, 5000, new Error('open timed out after 5 s'))
      })
      // Lets a newer version of the app upgrade the database; this page goes on in memory.
      db.onversionchange = () => fail(new Error('closed for an upgrade by another tab'))
    })().catch(fail))

  const tx = <T>(fill: (frames: IDBObjectStore) => T) =>
    new Promise<T>((resolve, reject) => {
      const transaction = db!.transaction('frames', 'readwrite')
      const result = fill(transaction.objectStore('frames'))
      transaction.oncomplete = () => resolve(result)
      transaction.onabort = () => reject(transaction.error)
    })

  // `reports`: 0 for delete (never rejects: the core calls it and moves on), 1 adopt, 2 put (a quota error is that frame's).
  const run = async <T>(op: () => Promise<T>, memory: T, reports: number): Promise<T> => {
    await start()
    if (db) {
      try {
        return await op()
      } catch (error) {
        if (reports > 1 && (error as Error)?.name == 'QuotaExceededError') throw error
        fail(error)
      }
    }
    if (reports && broken && !reported) {
      reported = true
      throw broken
    }
    return memory
  }

  const adoptOrphans = async () => {
    const alive = new Set<string>()
    if (locks) {
      const { held = [], pending = [] } = await locks.query()
      for (const lock of [...held, ...pending]) alive.add(lock.name!)
    }
    const now = Date.now()
    return tx((frames) => {
      const out: OutboxRecord[] = []
      frames.getAll().onsuccess = ({ target }) => {
        const rows = ((target as IDBRequest<Row[]>).result)
          .filter((row) => row.owner != me && !alive.has(tabLock(row.owner)))
          .sort((a, b) => indexedDB.cmp(a.order, b.order))
        for (const { owner: _owner, order: _order, ...record } of rows) {
          if (record.expires! <= now) {
            frames.delete(record.key)
          } else {
            const place = [started, me, 0, seq++]
            adopted.set(record.key, place)
            frames.put({ ...record, owner: me, order: place })
            out.push(record)
          }
        }
      }
      return out
    })
  }

  const keyOf = (key: string) => (adopted.has(key) ? key : me + '/' + key)

  return {
    adopt: () =>
      run(() => (locks ? locks.request(prefix + ':adopt', adoptOrphans) : adoptOrphans()), [], 1),
    put(record) {
      const { data } = record
      // Copied now: the caller's bytes may change before the write, and a view would store its whole buffer.
      const row: Row = {
        ...record,
        key: keyOf(record.key),
        data: typeof data == 'string' || data instanceof Blob ? data : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice() : new Uint8Array(data.slice(0)),
        owner: me,
        order: adopted.get(record.key) ?? [started, me, 1, record.key.length, record.key],
      }
      return run(() => tx((frames) => void frames.put(row)), undefined, 2)
    },
    delete(key) {
      const stored = keyOf(key)
      adopted.delete(key)
      return run(() => tx((frames) => void frames.delete(stored)), undefined, 0)
    },
    close() {
      release?.()
      db?.close()
      db = ready = release = undefined
    },
  }
}
