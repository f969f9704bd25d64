// IndexedDB: the outbox of records made on the phone (with their photos) and a few kept values.

const NAME = 'minqing';
const VERSION = 1;
let opening = null;

function open() {
  if (opening) return opening;
  opening = new Promise((resolve, reject) => {
    if (typeof indexedDB === 'undefined') {
      reject(new Error('此浏览器不支持离线存储'));
      return;
    }
    const req = indexedDB.open(NAME, VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains('outbox')) {
        const outbox = db.createObjectStore('outbox', { keyPath: 'id' });
        outbox.createIndex('user_id', 'user_id');
      }
      if (!db.objectStoreNames.contains('kv')) db.createObjectStore('kv', { keyPath: 'k' });
    };
    req.onsuccess = () => {
      const db = req.result;
      db.onversionchange = () => { db.close(); opening = null; };
      resolve(db);
    };
    req.onerror = () => { opening = null; reject(req.error); };
    req.onblocked = () => { /* another tab holds an old version; it closes on versionchange */ };
  });
  return opening;
}

// Runs `work(store)` in one transaction; resolves with what `work` returned once committed.
async function tx(storeName, mode, work) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const t = db.transaction(storeName, mode);
    let result;
    t.oncomplete = () => resolve(result);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error || new Error('transaction aborted'));
    const out = work(t.objectStore(storeName));
    if (out && typeof out.then !== 'function' && 'onsuccess' in out) {
      out.onsuccess = () => { result = out.result; };
    } else {
      result = out;
    }
  });
}

export function putRecord(record) {
  return tx('outbox', 'readwrite', (s) => s.put(record));
}

export function deleteRecord(id) {
  return tx('outbox', 'readwrite', (s) => s.delete(id));
}

// Every record of a user, oldest first.
export async function recordsOf(userId) {
  const rows = await tx('outbox', 'readonly', (s) => s.index('user_id').getAll(userId));
  return (rows || []).sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0));
}

// Changes one record in place (read, modify, write in one transaction).
export async function updateRecord(id, change) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const t = db.transaction('outbox', 'readwrite');
    const s = t.objectStore('outbox');
    let updated = null;
    const req = s.get(id);
    req.onsuccess = () => {
      if (!req.result) return;
      updated = change(req.result) || req.result;
      s.put(updated);
    };
    t.oncomplete = () => resolve(updated);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error || new Error('transaction aborted'));
  });
}

export async function getValue(k) {
  const row = await tx('kv', 'readonly', (s) => s.get(k));
  return row ? row.v : undefined;
}

export function setValue(k, v) {
  return tx('kv', 'readwrite', (s) => s.put({ k, v }));
}
