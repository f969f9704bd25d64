// The outbox: every record is written to IndexedDB first (with its photo), then sent when the
// phone is online — photos first, then one /checkins/batch call. A record's id is made once,
// when it is saved, and its body never changes after its photo id is known, so a resend after
// a lost answer gets the same receipt back: each record counts exactly once.
//
// States: pending → sent (the server's status and flags) or failed (the reason in words).
// A refused item never blocks the others; no answer or a 5xx leaves items pending.

import { api, ApiError, session } from './api.js';
import { problemText } from './labels.js';
import { putRecord, recordsOf, updateRecord, deleteRecord, getValue, setValue } from './store.js';
import { uuid } from './util.js';

const BATCH_MAX = 500;
const BATCH_BYTES = 768 * 1024; // the server takes JSON bodies up to 1 MiB
const KEEP_SENT = 100;
const KEEP_SENT_DAYS = 30;

const listeners = [];
export function onChange(callback) { listeners.push(callback); }
function changed() { listeners.forEach((f) => { try { f(); } catch (e) { /* a view's problem */ } }); }

let deviceId = null;

// A UUID made once per phone (per browser) and kept.
export async function getDeviceId() {
  if (deviceId) return deviceId;
  let id = await getValue('device_id');
  if (!id) {
    id = localStorage.getItem('mq.device_id') || uuid();
    await setValue('device_id', id);
  }
  localStorage.setItem('mq.device_id', id);
  deviceId = id;
  return id;
}

// Saves a new record: `fields` = {kind, village_id or session_id, village_name (the place's
// name), session_topic, lat, lon, accuracy_m, note, household}; `photo` = {bytes, type} or
// null. The body names exactly one place: the village, or the 夜学 / 夜议 session attended
// (whose place counts). Returns the stored record.
export async function saveRecord(userId, fields, photo) {
  const id = uuid();
  const now = new Date();
  const body = {
    id,
    kind: fields.kind,
  };
  if (fields.session_id) body.session_id = fields.session_id;
  else body.village_id = fields.village_id;
  Object.assign(body, {
    lat: fields.lat,
    lon: fields.lon,
    crs: 'wgs84',
    accuracy_m: fields.accuracy_m,
    recorded_at: now.toISOString(),
    device_id: await getDeviceId(),
    mock_location: false,
  });
  if (fields.note) body.note = fields.note;
  if (fields.household) body.household = fields.household;
  const record = {
    id,
    user_id: userId,
    created_at: body.recorded_at,
    state: 'pending',
    body,
    village_name: fields.village_name || '',
    session_topic: fields.session_topic || '',
    photo: photo ? { bytes: photo.bytes, type: photo.type } : null,
    has_photo: !!photo,
    photo_id: null,
    receipt: null,
    http_status: null,
    reason: '',
  };
  await putRecord(record);
  changed();
  return record;
}

export async function listRecords(userId) {
  const rows = await recordsOf(userId);
  return rows.reverse(); // newest first
}

export async function counts(userId) {
  const rows = await recordsOf(userId);
  return {
    pending: rows.filter((r) => r.state === 'pending').length,
    failed: rows.filter((r) => r.state === 'failed').length,
    sent: rows.filter((r) => r.state === 'sent').length,
  };
}

export async function removeFailed(id) {
  await deleteRecord(id);
  changed();
}

function wireBody(record) {
  const body = Object.assign({}, record.body);
  if (record.photo_id) body.photo_ids = [record.photo_id];
  return body;
}

// Why the server refused a record, in words: for a session check-in, what about the session.
function refusal(record, problem, status) {
  if (record.body && record.body.session_id) {
    const fields = (problem && Array.isArray(problem.errors) ? problem.errors : []).map((e) => e && e.field);
    if (status === 409) return '你已签到过这个会议';
    if (status === 422 && fields.indexOf('session_id') >= 0) return '不能签到：这个会议不是本镇当晚的会议';
    if (status === 422 && fields.indexOf('kind') >= 0) return '不能签到：会议类型不符';
  }
  return problemText(problem, status);
}

// A refusal that sending the same thing again would not change.
function permanent(e) {
  return e instanceof ApiError && e.status >= 400 && e.status < 500 && e.status !== 401 && e.status !== 408 && e.status !== 429;
}

async function fail(record, reason, status) {
  await updateRecord(record.id, (r) => {
    r.state = 'failed';
    r.reason = reason;
    r.http_status = status || null;
    r.photo = null; // the photo stays on the phone's camera roll; no need to keep two copies
    return r;
  });
}

const state = { running: false, lastError: null, lastTry: null, lastSuccess: null };
export function syncState() { return Object.assign({}, state); }

let running = null;

// Sends what is pending for the signed-in user. Never throws; resolves when done.
export function sync() {
  if (running) return running;
  const work = () => send().then(
    () => { state.lastError = null; state.lastSuccess = Date.now(); },
    (e) => { state.lastError = e && e.offline ? 'offline' : (e && e.signedOut ? 'signed_out' : (e instanceof ApiError ? problemText(e.problem, e.status) : '上传出错')); },
  );
  state.running = true;
  state.lastTry = Date.now();
  changed();
  const locked = typeof navigator !== 'undefined' && navigator.locks && navigator.locks.request
    ? navigator.locks.request('minqing-sync', work)
    : work();
  running = Promise.resolve(locked).then(() => {
    running = null;
    state.running = false;
    changed();
  });
  return running;
}

async function send() {
  const s = session();
  if (!s) return;
  const userId = s.user.id;
  let rows = await recordsOf(userId);
  await tidy(rows);
  rows = rows.filter((r) => r.state === 'pending');
  if (!rows.length) return;

  // Photos first; each id is stored at once so a retry never uploads the same photo again.
  for (const r of rows) {
    if (!r.photo || r.photo_id) continue;
    try {
      const media = await api('POST', '/media', { body: r.photo.bytes, type: r.photo.type || 'image/jpeg', timeout: 120000, user: userId });
      r.photo_id = media.id;
      await updateRecord(r.id, (x) => { x.photo_id = media.id; return x; });
    } catch (e) {
      if (!permanent(e)) throw e;
      await fail(r, `照片：${problemText(e.problem, e.status)}`, e.status);
      r.state = 'failed';
    }
    changed();
  }

  const ready = rows.filter((r) => r.state === 'pending' && (!r.has_photo || r.photo_id));
  for (const chunk of chunks(ready)) {
    const results = await api('POST', '/checkins/batch', { json: chunk.map(wireBody), timeout: 60000, user: userId });
    for (const item of Array.isArray(results) ? results : []) {
      const r = chunk[item.index];
      if (!r || (item.id && item.id !== r.id)) continue;
      if ((item.status === 200 || item.status === 201) && item.receipt) {
        await updateRecord(r.id, (x) => {
          x.state = 'sent';
          x.receipt = { status: item.receipt.status, flags: item.receipt.flags || [], stay_id: item.receipt.stay_id || null };
          x.http_status = item.status;
          x.sent_at = new Date().toISOString();
          x.photo = null;
          x.reason = '';
          return x;
        });
      } else if (item.status >= 400 && item.status < 500 && item.status !== 408 && item.status !== 429) {
        await fail(r, refusal(r, item.problem, item.status), item.status);
      }
      // 5xx, 408, 429: left pending for the next try.
    }
    changed();
  }
}

function* chunks(rows) {
  let chunk = [];
  let bytes = 2;
  for (const r of rows) {
    const size = JSON.stringify(wireBody(r)).length * 3 + 1; // worst case: every char 3 bytes
    if (chunk.length && (chunk.length >= BATCH_MAX || bytes + size > BATCH_BYTES)) {
      yield chunk;
      chunk = [];
      bytes = 2;
    }
    chunk.push(r);
    bytes += size;
  }
  if (chunk.length) yield chunk;
}

// Forgets old sent records: more than KEEP_SENT of them, or older than KEEP_SENT_DAYS.
async function tidy(rows) {
  const sent = rows.filter((r) => r.state === 'sent');
  const cutoff = new Date(Date.now() - KEEP_SENT_DAYS * 86400000).toISOString();
  const drop = sent.filter((r, i) => i < sent.length - KEEP_SENT || r.created_at < cutoff);
  for (const r of drop) await deleteRecord(r.id);
}
