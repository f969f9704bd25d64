// The JSON API on the same origin: the signed-in session (token pair kept on the phone),
// refreshing the access token (one refresh at a time, across tabs too), errors.

const KEY = 'mq.session';
const BASE = '/api/v1';

// The server answered with a problem (4xx/5xx).
export class ApiError extends Error {
  constructor(status, problem, retryAfter) {
    super((problem && problem.title) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || null;
    this.retryAfter = retryAfter;
  }
}

// No answer: offline, or the connection broke.
export class OfflineError extends Error {
  constructor() { super('offline'); this.offline = true; }
}

// The session is gone (the refresh token was refused): sign in again.
export class SignedOutError extends Error {
  constructor() { super('signed out'); this.signedOut = true; }
}

const listeners = [];
export function onSignedOut(callback) { listeners.push(callback); }

export function session() {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) || 'null');
    return s && s.access_token && s.refresh_token && s.user ? s : null;
  } catch (e) {
    return null;
  }
}

function saveSession(pair, user) {
  const s = {
    access_token: pair.access_token,
    refresh_token: pair.refresh_token,
    expires_at: Date.now() + (Number(pair.expires_in) || 900) * 1000,
    user: pair.user || user,
  };
  localStorage.setItem(KEY, JSON.stringify(s));
  return s;
}

function dropSession() {
  localStorage.removeItem(KEY);
}

function withLock(name, work) {
  if (typeof navigator !== 'undefined' && navigator.locks && navigator.locks.request) {
    return navigator.locks.request(name, work);
  }
  return work();
}

async function send(method, path, { json, body, type, token, timeout = 30000, blob = false } = {}) {
  // The phone knows it has no network: do not even try (a `true` here may still be wrong).
  if (typeof navigator !== 'undefined' && navigator.onLine === false) throw new OfflineError();
  const headers = { Accept: blob ? 'image/*' : 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (type) {
    headers['Content-Type'] = type;
  }
  const abort = typeof AbortController !== 'undefined' ? new AbortController() : null;
  const timer = abort ? setTimeout(() => abort.abort(), timeout) : null;
  let res;
  try {
    res = await fetch(BASE + path, { method, headers, body, signal: abort ? abort.signal : undefined, credentials: 'omit', cache: 'no-store' });
  } catch (e) {
    throw new OfflineError();
  } finally {
    if (timer) clearTimeout(timer);
  }
  if (blob && res.ok) return res.blob(); // an image: its bytes, not JSON
  let data = null;
  const text = await res.text().catch(() => '');
  if (text) {
    try { data = JSON.parse(text); } catch (e) { data = null; }
  }
  if (!res.ok) {
    const retry = Number(res.headers.get('Retry-After'));
    throw new ApiError(res.status, data, isFinite(retry) ? retry : undefined);
  }
  return data;
}

let refreshing = null;

// Rotates the token pair. `failedToken` is the access token the server just refused: when
// another call (or tab) has already replaced it, that newer pair is used instead. A refresh
// token is spent by use, so there is never more than one refresh in flight.
export function refresh(failedToken) {
  if (!refreshing) {
    refreshing = withLock('minqing-refresh', () => rotate(failedToken)).then(
      (s) => { refreshing = null; return s; },
      (e) => { refreshing = null; throw e; },
    );
  }
  return refreshing;
}

async function rotate(failedToken) {
  const s = session();
  if (!s) throw new SignedOutError();
  if (s.access_token !== failedToken && s.expires_at - Date.now() > 60000) return s;
  try {
    const pair = await send('POST', '/auth/refresh', { json: { refresh_token: s.refresh_token } });
    return saveSession(pair, s.user);
  } catch (e) {
    if (e instanceof ApiError && (e.status === 400 || e.status === 401 || e.status === 403 || e.status === 422)) {
      // Another tab may have rotated the pair meanwhile: then that one is good.
      const now = session();
      if (now && now.refresh_token !== s.refresh_token) return now;
      dropSession();
      listeners.forEach((f) => f());
      throw new SignedOutError();
    }
    throw e;
  }
}

// A signed-in call: refreshes a token about to expire first, and once more on a 401.
// `options.user`: only as this user (a sync started before a sign-out must not go on as
// the next person to sign in).
export async function api(method, path, options = {}) {
  let s = session();
  const check = () => {
    if (!s || (options.user && s.user.id !== options.user)) throw new SignedOutError();
  };
  check();
  if (s.expires_at - Date.now() < 60000) { s = await refresh(s.access_token); check(); }
  try {
    return await send(method, path, Object.assign({}, options, { token: s.access_token }));
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401) throw e;
    s = await refresh(s.access_token);
    check();
    return send(method, path, Object.assign({}, options, { token: s.access_token }));
  }
}

export async function login(phone, password) {
  const pair = await send('POST', '/auth/login', { json: { phone, password } });
  return saveSession(pair);
}

// Signs out: forgets the tokens at once, then revokes the refresh token when the server can
// be reached (refreshing a stale access token for that first). The outbox is left alone: it
// is sent after the next sign-in.
export function logout() {
  const s = session();
  dropSession();
  if (!s) return Promise.resolve();
  return (async () => {
    let pair = s;
    if (s.expires_at - Date.now() < 30000) {
      pair = await send('POST', '/auth/refresh', { json: { refresh_token: s.refresh_token }, timeout: 8000 });
    }
    await send('POST', '/auth/logout', { json: { refresh_token: pair.refresh_token }, token: pair.access_token, timeout: 8000 });
  })().catch(() => { /* offline or already gone: the tokens expire by themselves */ });
}

export function me() {
  return api('GET', '/me');
}
