// 夜学 / 夜议 as group sessions (DESIGN §2.1): tonight's sessions of the town to check in to,
// opening one (发起), and a session's page — its attendance and, for its organiser, the
// minutes (纪要) with photos and, for a 夜议, the villagers present. Reading works offline
// from the last copy; opening a session and writing minutes need the network. Attending is a
// check-in with `session_id`, made by the record form (app.js) into the outbox.

import { api, session, ApiError } from './api.js';
import { label, kindLabel, flagText, problemText } from './labels.js';
import { listRecords, onChange } from './outbox.js';
import { uploadPhotos, thumbnails } from './photo.js';
import { fetchKept, errorText, staleNote, kept } from './pages.js';
import { h, formatTime, formatDate, localDate, nightDate, toLocalInput, fromLocalInput } from './util.js';
import { cachedMe, topbar, toast, navigate, villageName } from './ui.js';

export const SESSION_KINDS = ['night_study', 'night_discussion'];
const MAX_PHOTOS = 9;

// Screens showing attendance listen to the outbox (a check-in saved or sent).
const views = [];
onChange(() => views.slice().forEach((f) => { try { f(); } catch (e) { /* a view's problem */ } }));
function watch(refresh) {
  views.push(refresh);
  return () => {
    const i = views.indexOf(refresh);
    if (i >= 0) views.splice(i, 1);
  };
}

const keyOf = (what) => `mq.sessions.${session().user.id}.${what}`;
const word = (kind) => label('session_kind', kind, kindLabel(kind));
const offline = () => navigator.onLine === false;

function statusBadge(s) {
  const cls = s.status === 'complete' ? 'badge b-ok' : (s.status === 'incomplete' ? 'badge bad' : 'badge b-warn');
  return h('span', { class: cls }, label('session_status', s.status, '待补纪要'));
}

// The place in words: a town's own unit is its town hall (镇政府), as the place list says.
export function placeName(s) {
  const unit = (cachedMe() || {}).org_unit;
  if (unit && unit.id === s.place_id && unit.kind === 'town') return `${unit.name}政府`;
  return s.place_name || '';
}

function statusWord(s) {
  const cls = s.status === 'complete' ? 'st' : (s.status === 'incomplete' ? 'st st-rejected' : 'st st-flagged');
  return h('span', { class: cls }, label('session_status', s.status, '待补纪要'));
}

// How the cadre's own attendance reads: green when it counts, amber while it waits or is
// under review, red when refused.
function mineClass(a) {
  if (a.state === 'failed' || a.status === 'rejected') return 'mine bad';
  if (a.state === 'pending' || a.status === 'flagged') return 'mine wait';
  return 'mine';
}

// Where the signed-in cadre stands with a session: on its attendance list, in the outbox
// (waiting, or refused), or not checked in.
function attendance(s, records, uid) {
  const listed = (s.attendees || []).find((a) => a.user_id === uid);
  if (listed) return { state: 'listed', status: listed.status };
  const mine = records.filter((r) => r.body && r.body.session_id === s.id);
  const live = mine.find((r) => r.state !== 'failed');
  if (live) return { state: live.state, status: live.receipt && live.receipt.status };
  if (mine.length) return { state: 'failed', reason: mine[0].reason };
  return null;
}

function attendanceText(a) {
  if (!a) return '';
  if (a.state === 'pending') return '已签到，待上传';
  if (a.state === 'failed') return `签到未通过：${a.reason || '提交被拒绝'}`;
  return `已签到 · ${label('checkin_status', a.status, '已收到')}`;
}

// May the cadre still check in (tonight's session, no live check-in yet)?
function canAttend(s, a) {
  return s.night_date === nightDate() && (!a || a.state === 'failed');
}

function attendButton(s) {
  return h('button', { type: 'button', class: 'attend', onclick: () => navigate(`#/attend/${s.id}`) }, '签到');
}

function sessionCard(s, records, uid) {
  const a = attendance(s, records, uid);
  const actions = h('div', { class: 'actions' },
    canAttend(s, a) ? attendButton(s) : null,
    h('button', { type: 'button', class: 'ghost', onclick: () => navigate(`#/session/${s.id}`) }, s.organiser_id === uid ? '查看 · 纪要' : '查看'));
  return h('article', { class: 'session', 'data-session': s.id },
    h('header', null, h('h3', null, s.topic), statusBadge(s)),
    h('p', { class: 'meta' }, `${formatTime(s.starts_at)} · ${placeName(s)}`),
    h('p', { class: 'meta' }, `组织人：${s.organiser_id === uid ? '我' : s.organiser_name} · 已签到 ${(s.attendees || []).length} 人`),
    a ? h('p', { class: mineClass(a) }, attendanceText(a)) : null,
    actions);
}

// ---- 夜学 / 夜议: tonight's sessions ----

export function sessionsPage(root, kind) {
  const uid = session().user.id;
  const night = nightDate();
  const title = word(kind);
  const body = h('div', { class: 'content' }, h('p', { class: 'loading' }, '正在加载…'));
  root.appendChild(h('div', { class: 'screen' }, topbar(title, { back: true }), body));
  let alive = true;
  let tonight = null;
  let mine = [];
  let at = null;
  let failure = null;

  function render(records) {
    if (!alive) return;
    body.textContent = '';
    const list = tonight ? tonight.filter((s) => s.kind === kind && s.night_date === night)
      .sort((a, b) => (a.starts_at < b.starts_at ? -1 : 1)) : [];
    const start = h('button', { type: 'button', class: 'primary', disabled: offline(), onclick: () => navigate(`#/session-new/${kind}`) }, `发起${title}`);
    body.appendChild(h('section', { class: 'card' },
      h('h2', null, `今晚（${formatDate(night)}）的${title}`),
      failure ? h('p', { class: 'notice inline' }, failure) : null,
      tonight && !list.length ? h('p', { class: 'hint' }, `本镇今晚还没有人发起${title}。你可以发起一场，参加的同事再签到。`) : null,
      list.map((s) => sessionCard(s, records, uid)),
      staleNote(at)));
    body.appendChild(h('div', { class: 'card start' }, start,
      h('p', { class: 'hint' }, offline() ? `没有网络：发起${title}需要联网。已看到的会议仍可签到，联网后自动上传。` : `发起人填写主题、地点和时间；会后补录纪要${kind === 'night_discussion' ? '和参会群众' : ''}。`),
      offline() ? h('button', { type: 'button', class: 'ghost wide-in', onclick: () => navigate(`#/record/${kind}`) }, '单独记录（不属于会议）') : null));
    const due = mine.filter((s) => s.kind === kind && s.organiser_id === uid && s.status === 'awaiting_minutes' && s.night_date !== night);
    if (due.length) {
      body.appendChild(h('section', { class: 'card' }, h('h2', null, '我组织的，待补纪要'),
        due.map((s) => sessionCard(s, records, uid))));
    }
    const earlier = mine.filter((s) => s.kind === kind && s.night_date !== night && due.indexOf(s) < 0).slice(0, 10);
    if (earlier.length) {
      body.appendChild(h('section', { class: 'card' }, h('h2', null, `我最近的${title}`),
        h('ul', { class: 'plain links' }, earlier.map((s) => h('li', null,
          h('a', { href: `#/session/${s.id}` }, s.topic),
          h('p', { class: 'hint' }, `${formatTime(s.starts_at)} · ${placeName(s)} · `, statusWord(s)))))));
    }
  }

  async function refresh() {
    const records = await listRecords(uid).catch(() => []);
    render(records);
  }

  (async () => {
    const from = new Date(`${night}T12:00:00+08:00`);
    const to = new Date(from.getTime() + 86400000);
    const path = `/sessions?from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}&limit=200`;
    try {
      const r = await fetchKept(keyOf(`night.${night}`), path);
      tonight = r.data.items || [];
      at = r.at;
    } catch (e) {
      failure = errorText(e, '今晚的会议');
      tonight = null;
    }
    try {
      mine = (await fetchKept(keyOf('mine'), '/sessions?mine=true&limit=50')).data.items || [];
    } catch (e) {
      mine = [];
    }
    await refresh();
  })();
  const unwatch = watch(refresh);
  return () => { alive = false; unwatch(); };
}

// A session just opened or read goes into the kept copy of its night's list (the copy keeps
// its own time), so that offline the list still holds it.
function remember(s) {
  try {
    const key = keyOf(`night.${s.night_date}`);
    const copy = kept(key) || { data: { items: [], next_cursor: null }, at: Date.now() };
    const items = (copy.data && copy.data.items) || [];
    const i = items.findIndex((x) => x.id === s.id);
    if (i >= 0) items[i] = s; else items.unshift(s);
    copy.data = Object.assign({}, copy.data, { items });
    localStorage.setItem(key, JSON.stringify(copy));
  } catch (e) { /* full: skip */ }
}

// ---- one session ----

// A session by id: from the server, else the last copy kept (of it, or of a list holding it).
export async function loadSession(id) {
  try {
    const r = await fetchKept(keyOf(`one.${id}`), `/sessions/${encodeURIComponent(id)}`);
    if (!r.at) remember(r.data);
    return r;
  } catch (e) {
    if (!(e && (e.offline || e.status >= 500))) throw e;
    const prefix = keyOf('');
    for (let i = 0; i < localStorage.length; i++) {
      const k = localStorage.key(i);
      if (!k || k.indexOf(prefix) !== 0) continue;
      const copy = kept(k);
      const items = copy && copy.data && Array.isArray(copy.data.items) ? copy.data.items : [];
      const found = items.find((s) => s.id === id);
      if (found) return { data: found, at: copy.at };
    }
    throw e;
  }
}

export function sessionPage(root, id) {
  const uid = session().user.id;
  const body = h('div', { class: 'content' }, h('p', { class: 'loading' }, '正在加载…'));
  const screen = h('div', { class: 'screen' }, topbar('会议', { back: true }), body);
  root.appendChild(screen);
  let alive = true;
  let s = null;
  let at = null;
  let minutesForm = null;

  function render(records) {
    if (!alive || !s) return;
    const title = word(s.kind);
    screen.replaceChild(topbar(title, { back: `#/sessions/${s.kind}` }), screen.firstChild);
    const a = attendance(s, records, uid);
    const organiser = s.organiser_id === uid;
    let due = null;
    if (s.status === 'awaiting_minutes') due = `纪要请在 ${formatTime(s.minutes_due_at)} 前补录`;
    if (s.status === 'incomplete') due = '纪要未按时补录，参会签到转入审核';
    const keep = minutesForm; // a form being filled in survives a refresh
    body.textContent = '';
    body.appendChild(h('section', { class: 'card session-head' },
      h('h2', null, s.topic),
      h('dl', { class: 'facts' },
        h('dt', null, '类型'), h('dd', null, title),
        h('dt', null, '地点'), h('dd', null, placeName(s)),
        h('dt', null, '时间'), h('dd', null, formatTime(s.starts_at)),
        h('dt', null, '组织人'), h('dd', null, organiser ? `${s.organiser_name}（我）` : s.organiser_name),
        h('dt', null, '状态'), h('dd', null, statusWord(s))),
      due ? h('p', { class: s.status === 'incomplete' ? 'due bad' : 'due' }, due) : null,
      a ? h('p', { class: mineClass(a) }, attendanceText(a)) : null,
      canAttend(s, a) ? h('div', { class: 'actions' }, attendButton(s)) : null,
      staleNote(at)));

    const people = s.attendees || [];
    body.appendChild(h('section', { class: 'card' },
      h('h2', null, `签到人员（${people.length} 人）`),
      people.length ? h('ul', { class: 'attendees' }, people.map((p) => h('li', { class: p.status === 'flagged' ? 'flagged' : null },
        h('div', { class: 'rec-head' },
          h('strong', null, p.user_id === uid ? `${p.name}（我）` : p.name),
          h('span', { class: `st st-${p.status}` }, label('checkin_status', p.status, '已收到')),
          h('time', { datetime: p.recorded_at }, formatTime(p.recorded_at))),
        (p.flags || []).length ? h('ul', { class: 'rec-flags' }, p.flags.map((f) => h('li', null, flagText(f, villageName)))) : null)))
        : h('p', { class: 'hint' }, '还没有人签到')));

    const minutes = h('section', { class: 'card minutes' }, h('h2', null, '会议纪要'));
    if (s.minutes) {
      minutes.appendChild(h('p', { class: 'prose' }, s.minutes));
      if (s.minutes_at) minutes.appendChild(h('p', { class: 'hint' }, `${formatTime(s.minutes_at)} 录入`));
    } else {
      minutes.appendChild(h('p', { class: 'hint' }, organiser ? '还没有补录纪要。' : '组织人还没有补录纪要。'));
    }
    if ((s.photo_ids || []).length) minutes.appendChild(thumbnails(s.photo_ids));
    const v = s.villagers_present;
    if (s.kind === 'night_discussion' && v) {
      minutes.appendChild(h('p', { class: 'villagers' }, `参会群众 ${v.count} 人${(v.names || []).length ? `：${v.names.join('、')}` : ''}`));
    }
    if (organiser) minutes.appendChild(keep || (minutesForm = minutesEditor(s, (fresh) => { s = fresh; minutesForm = null; refresh(); })));
    body.appendChild(minutes);
  }

  let refetched = false;
  async function refresh() {
    const records = await listRecords(uid).catch(() => []);
    // The cadre's check-in has just reached the server: show the attendance as it holds it.
    const sent = s && records.some((r) => r.state === 'sent' && r.body && r.body.session_id === s.id);
    if (sent && !refetched && !(s.attendees || []).some((a) => a.user_id === uid)) {
      refetched = true;
      try {
        const r = await loadSession(id);
        if (!r.at) { s = r.data; at = null; }
      } catch (e) { /* shown from the outbox meanwhile */ }
    }
    render(records);
  }

  loadSession(id).then((r) => {
    s = r.data;
    at = r.at;
    return refresh();
  }, (e) => {
    if (!alive) return;
    body.textContent = '';
    body.appendChild(h('p', { class: 'notice' }, e instanceof ApiError && e.status === 404 ? '没有这个会议，或不是本镇的会议' : errorText(e, '会议')));
  });
  const unwatch = watch(refresh);
  return () => { alive = false; unwatch(); };
}

// The organiser's 纪要 form: the minutes, more photos and, for a 夜议, the villagers present.
function minutesEditor(s, saved) {
  const text = h('textarea', { id: 'minutes', name: 'minutes', rows: '5', maxlength: '5000', placeholder: '学习或议定的内容、参加情况、下一步安排' });
  text.value = s.minutes || '';
  const photos = h('input', { id: 'minutes-photos', name: 'photos', type: 'file', accept: 'image/*', multiple: true });
  const face = h('span', { class: 'picker-face', 'aria-hidden': 'true' }, '拍照或选择照片');
  photos.addEventListener('change', () => {
    const n = photos.files ? photos.files.length : 0;
    face.textContent = n ? `已选 ${n} 张，点此更换` : '拍照或选择照片';
  });
  const discussion = s.kind === 'night_discussion';
  const v = s.villagers_present || { names: [], count: 0 };
  const names = h('textarea', { id: 'villager-names', name: 'villager_names', rows: '2', maxlength: '5000', placeholder: '用顿号或逗号隔开，如：王大伯、李婶' });
  names.value = (v.names || []).join('、');
  const count = h('input', { id: 'villager-count', name: 'villager_count', type: 'number', inputmode: 'numeric', min: '0', max: '10000', step: '1' });
  if (s.villagers_present) count.value = String(v.count);
  const error = h('p', { class: 'error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'primary' }, '保存纪要');
  const form = h('form', { class: 'step-form', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'minutes' }, '纪要内容'), text),
    h('div', { class: 'field' }, h('label', { for: 'minutes-photos' }, '纪要照片'), h('div', { class: 'picker' }, face, photos),
      h('p', { class: 'hint' }, `会场照片，最多 ${MAX_PHOTOS} 张`)),
    discussion ? h('div', { class: 'field' }, h('label', { for: 'villager-names' }, '参会群众姓名'), names) : null,
    discussion ? h('div', { class: 'field' }, h('label', { for: 'villager-count' }, '参会群众人数'), count) : null,
    error, submit);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    const minutes = text.value.trim();
    if (!minutes) { error.textContent = '请填写纪要内容'; return; }
    const patch = { minutes };
    if (discussion) {
      const list = names.value.split(/[、，,；;\s]+/).map((n) => n.trim()).filter(Boolean);
      const raw = count.value.trim();
      let n = raw === '' ? list.length : Number(raw);
      if (!Number.isInteger(n) || n < 0) { error.textContent = '参会群众人数请填整数'; return; }
      if (n < list.length) { error.textContent = `参会群众人数不能少于所填姓名数（${list.length} 人）`; return; }
      if (raw !== '' || list.length) patch.villagers_present = { names: list, count: n };
    }
    const files = photos.files ? Array.prototype.slice.call(photos.files) : [];
    const existing = s.photo_ids || [];
    if (existing.length + files.length > MAX_PHOTOS) { error.textContent = `照片最多 ${MAX_PHOTOS} 张，已有 ${existing.length} 张`; return; }
    if (offline()) { error.textContent = '没有网络：保存纪要需要联网，请联网后再试（已填的内容不会丢）'; return; }
    submit.disabled = true;
    try {
      if (files.length) {
        const ids = await uploadPhotos(files, (i, total) => { submit.textContent = `正在上传照片 ${i}/${total}…`; });
        patch.photo_ids = existing.concat(ids);
      }
      submit.textContent = '正在保存…';
      const fresh = await api('PATCH', `/sessions/${encodeURIComponent(s.id)}`, { json: patch });
      remember(fresh);
      toast('纪要已保存');
      saved(fresh);
    } catch (e) {
      error.textContent = saveError(e, '纪要');
    } finally {
      submit.disabled = false;
      submit.textContent = '保存纪要';
    }
  });
  return form;
}

function saveError(e, what) {
  if (e && e.offline) return `网络不通，${what}没有保存，请联网后再试`;
  if (e && e.signedOut) return '登录已过期，请重新登录';
  if (e instanceof ApiError && e.status === 403) return '只有组织人可以补录纪要';
  if (e instanceof ApiError) return problemText(e.problem, e.status);
  if (e && e.message) return e.message;
  return `${what}没有保存，请稍后再试`;
}

// ---- 发起夜学 / 发起夜议 ----

// Where the cadre may hold a session: their villages, and their own unit when it has a
// boundary (the town hall once the admin has set it; a village committee).
function places() {
  const me = cachedMe() || {};
  const list = [];
  const unit = me.org_unit;
  if (unit && unit.boundary && unit.kind !== 'county') {
    list.push({ id: unit.id, name: unit.kind === 'town' ? `${unit.name}政府` : unit.name });
  }
  const villages = (me.villages || []).slice().sort((a, b) => String(a.name).localeCompare(String(b.name), 'zh-CN'));
  villages.forEach((v) => { if (!list.some((p) => p.id === v.id)) list.push({ id: v.id, name: v.name }); });
  return list;
}

export function newSessionPage(root, kind) {
  const title = word(kind);
  const spots = places();
  const topic = h('input', { id: 'topic', name: 'topic', type: 'text', maxlength: '200', autocomplete: 'off', required: true,
    placeholder: kind === 'night_study' ? '如：学习党的二十届四中全会精神' : '如：商议村道硬化和筹资办法' });
  const place = h('select', { id: 'place', name: 'place', required: true },
    spots.length ? spots.map((p) => h('option', { value: p.id }, p.name)) : h('option', { value: '' }, '（没有可用的地点）'));
  // The start: a day and a time in local words, by default now. (A datetime-local input
  // would show the browser's own format, e.g. "PM", on a phone set to another language.)
  const now = new Date();
  const [today, clock] = toLocalInput(now).split('T');
  const day = h('select', { id: 'starts-day', name: 'starts_day' });
  for (let i = -7; i <= 14; i++) {
    const d = localDate(new Date(now.getTime() + i * 86400000));
    const rel = { '-1': '昨天', 0: '今天', 1: '明天' }[i];
    day.appendChild(h('option', { value: d, selected: i === 0 }, rel ? `${formatDate(d)}（${rel}）` : formatDate(d)));
  }
  const two = (n) => (n < 10 ? '0' : '') + n;
  const hour = h('select', { id: 'starts-hour', name: 'starts_hour', 'aria-label': '开始时间（时）' },
    Array.from({ length: 24 }, (_, i) => h('option', { value: two(i) }, `${two(i)}时`)));
  const minute = h('select', { id: 'starts-minute', name: 'starts_minute', 'aria-label': '开始时间（分）' },
    Array.from({ length: 60 }, (_, i) => h('option', { value: two(i) }, `${two(i)}分`)));
  day.value = today;
  hour.value = clock.slice(0, 2);
  minute.value = clock.slice(3, 5);
  const unit = (cachedMe() || {}).org_unit;
  let placeNote = null;
  if (!spots.length) placeNote = h('p', { class: 'warn' }, '你没有包联村，本单位也未设置位置：请联系督查办');
  else if (unit && unit.kind === 'town' && !spots.some((p) => p.id === unit.id)) placeNote = h('p', { class: 'hint' }, '镇政府由管理员设置位置后也可选择');
  const error = h('p', { class: 'error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'primary' }, `发起${title}`);
  const form = h('form', { class: 'card record', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'topic' }, '主题'), topic),
    h('div', { class: 'field' }, h('label', { for: 'place' }, '地点'), place, placeNote),
    h('div', { class: 'field' }, h('label', { for: 'starts-day' }, '开始时间'),
      h('div', { class: 'when' }, day, hour, minute), h('p', { class: 'hint' }, '默认为现在')),
    offline() ? h('p', { class: 'warn' }, `没有网络：发起${title}需要联网`) : null,
    error, submit);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    if (!topic.value.trim()) { error.textContent = '请填写主题'; return; }
    if (!place.value) { error.textContent = '请选择地点'; return; }
    const when = fromLocalInput(`${day.value}T${hour.value}:${minute.value}`);
    if (!when) { error.textContent = '请填写开始时间'; return; }
    if (offline()) { error.textContent = `没有网络：发起${title}需要联网，请联网后再试`; return; }
    submit.disabled = true;
    submit.textContent = '正在发起…';
    try {
      const created = await api('POST', '/sessions', { json: { kind, place_id: place.value, topic: topic.value.trim(), starts_at: when.toISOString() } });
      remember(created);
      toast(`已发起${title}`);
      navigate(`#/session/${created.id}`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 403) error.textContent = `你没有发起${title}的权限`;
      else error.textContent = saveError(e, title);
    } finally {
      submit.disabled = false;
      submit.textContent = `发起${title}`;
    }
  });
  root.appendChild(h('div', { class: 'screen' }, topbar(`发起${title}`, { back: `#/sessions/${kind}` }), form));
  topic.focus();
  return null;
}
