// Small helpers: building DOM, local (Asia/Shanghai) times, distances, ids.

// h('div', {class: 'x', onclick: f}, 'text', child, [more]) → an element. Text is never HTML.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const key of Object.keys(attrs)) {
      const value = attrs[key];
      if (value === undefined || value === null || value === false) continue;
      if (key.slice(0, 2) === 'on' && typeof value === 'function') {
        el.addEventListener(key.slice(2), value);
      } else if (key === 'class') {
        el.className = value;
      } else if (key === 'text') {
        el.textContent = value;
      } else if (key in el && typeof value !== 'string') {
        el[key] = value;
      } else {
        el.setAttribute(key, value === true ? '' : String(value));
      }
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

// The towns' local time: China Standard Time, UTC+8 all year (no daylight saving).
const OFFSET_MS = 8 * 3600 * 1000;

function local(value) {
  const d = value instanceof Date ? value : new Date(value);
  if (isNaN(d.getTime())) return null;
  return new Date(d.getTime() + OFFSET_MS);
}

const pad = (n) => (n < 10 ? '0' : '') + n;

// "12月4日 18:00" (with the year when it is not this year).
export function formatTime(value) {
  const t = local(value);
  if (!t) return '';
  const now = local(new Date());
  const year = t.getUTCFullYear() !== now.getUTCFullYear() ? t.getUTCFullYear() + '年' : '';
  return `${year}${t.getUTCMonth() + 1}月${t.getUTCDate()}日 ${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}`;
}

// The local calendar date of `now` as "2026-12-04".
export function localDate(now = new Date()) {
  const t = local(now);
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
}

// The night a moment belongs to, as "2026-12-04": night work after midnight (before noon)
// counts for the night before, as the server counts it.
export function nightDate(now = new Date()) {
  const t = local(now);
  if (t.getUTCHours() < 12) return localDate(new Date(now.getTime() - 86400000));
  return localDate(now);
}

// "2026-12-04" → "12月4日" (with the year when it is not this year).
export function formatDate(day) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(day || ''));
  if (!m) return '';
  const year = Number(m[1]) !== local(new Date()).getUTCFullYear() ? `${Number(m[1])}年` : '';
  return `${year}${Number(m[2])}月${Number(m[3])}日`;
}

// A moment as the value of an <input type="datetime-local"> in local time, "2026-12-04T19:30".
export function toLocalInput(value) {
  const t = local(value);
  if (!t) return '';
  return `${localDate(value instanceof Date ? value : new Date(value))}T${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}`;
}

// The value of an <input type="datetime-local"> (local time) as a Date; null when invalid.
export function fromLocalInput(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(String(text || ''));
  if (!m) return null;
  const utc = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  return new Date(utc - OFFSET_MS);
}

// This local month as the API's period, "2026-11", and in words, "2026年11月"; with
// `kind: 'quarter'`, "2026-Q4" and "2026年第四季度".
export function currentPeriod(now = new Date(), kind = 'month') {
  const t = local(now);
  const y = t.getUTCFullYear();
  const m = t.getUTCMonth() + 1;
  if (kind === 'quarter') {
    const q = Math.floor((m - 1) / 3) + 1;
    return { period: `${y}-Q${q}`, words: `${y}年第${'一二三四'[q - 1]}季度` };
  }
  return { period: `${y}-${pad(m)}`, words: `${y}年${m}月` };
}

// Numbers as people read them: at most one decimal, no trailing ".0".
export function num(x, digits = 1) {
  if (x === null || x === undefined || isNaN(x)) return '—';
  const f = Math.pow(10, digits);
  return String(Math.round(Number(x) * f) / f);
}

export function formatDistance(metres) {
  const m = Number(metres);
  if (!isFinite(m)) return '';
  if (m < 1000) return `${Math.round(m)} 米`;
  return `${num(m / 1000)} 公里`;
}

export function formatHours(hours) {
  const x = Number(hours);
  if (!isFinite(x)) return '';
  if (x < 48) return `${num(x)} 小时`;
  return `${num(x / 24)} 天`;
}

// Great-circle distance in metres.
export function distanceM(lat1, lon1, lat2, lon2) {
  const r = 6371008.8;
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * r * Math.asin(Math.min(1, Math.sqrt(a)));
}

// The point to measure a village from: a circle's centre, or the centroid of the (largest)
// polygon's outer ring. GeoJSON positions are [lon, lat].
export function villageCentre(boundary) {
  if (!boundary || typeof boundary !== 'object') return null;
  if (boundary.center && isFinite(boundary.center.lat) && isFinite(boundary.center.lon)) {
    return { lat: Number(boundary.center.lat), lon: Number(boundary.center.lon) };
  }
  let rings = [];
  if (boundary.type === 'Polygon' && Array.isArray(boundary.coordinates)) rings = [boundary.coordinates[0]];
  else if (boundary.type === 'MultiPolygon' && Array.isArray(boundary.coordinates)) rings = boundary.coordinates.map((p) => p[0]);
  let best = null;
  for (const ring of rings) {
    const c = ringCentroid(ring || []);
    if (c && (!best || c.area > best.area)) best = c;
  }
  return best && { lat: best.lat, lon: best.lon };
}

function ringCentroid(ring) {
  if (ring.length < 3) return null;
  let a = 0, cx = 0, cy = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [x0, y0] = ring[j];
    const [x1, y1] = ring[i];
    const f = x0 * y1 - x1 * y0;
    a += f;
    cx += (x0 + x1) * f;
    cy += (y0 + y1) * f;
  }
  if (Math.abs(a) < 1e-12) {
    // Degenerate: the mean of the vertices.
    const n = ring.length;
    return { lon: ring.reduce((s, p) => s + p[0], 0) / n, lat: ring.reduce((s, p) => s + p[1], 0) / n, area: 0 };
  }
  return { lon: cx / (3 * a), lat: cy / (3 * a), area: Math.abs(a / 2) };
}

// Villages by name (Chinese collation), or nearest first when a position is known; each
// with its distance in metres when it can be measured.
export function sortVillages(villages, position) {
  const list = (villages || []).map((v) => {
    const c = villageCentre(v.boundary);
    const d = position && c ? distanceM(position.lat, position.lon, c.lat, c.lon) : null;
    return { id: v.id, name: v.name, distance: d };
  });
  const byName = (a, b) => String(a.name).localeCompare(String(b.name), 'zh-CN');
  list.sort((a, b) => {
    if (a.distance !== null && b.distance !== null) return a.distance - b.distance || byName(a, b);
    if (a.distance !== null) return -1;
    if (b.distance !== null) return 1;
    return byName(a, b);
  });
  return list;
}

// A v4 UUID, from crypto.randomUUID where there is one.
export function uuid() {
  const c = typeof crypto !== 'undefined' ? crypto : null;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  const b = new Uint8Array(16);
  if (c && c.getRandomValues) c.getRandomValues(b);
  else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.prototype.map.call(b, (x) => (x + 0x100).toString(16).slice(1)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
