// 民情·干部: the cadre's phone app. Screens: 登录, home (record buttons, outbox), the record
// form (a check-in in a village, or attendance at a 夜学 / 夜议 session), the sessions
// (sessions.js), 工作日志 (worklog.js), and 本月进度 / 我的得分 / 我的工单 (pages.js).
// Routes live in the URL's hash.

import { session, login, logout, onSignedOut, ApiError } from './api.js';
import { refreshLabels, label, kindLabel, flagText, problemText } from './labels.js';
import { saveRecord, listRecords, counts, sync, syncState, onChange, removeFailed, getDeviceId } from './outbox.js';
import { preparePhoto } from './photo.js';
import { progressPage, scorePage, ordersPage, errorText } from './pages.js';
import { SESSION_KINDS, sessionsPage, sessionPage, newSessionPage, loadSession, placeName } from './sessions.js';
import { workLogPage } from './worklog.js';
import { h, formatTime, sortVillages, formatDistance, nightDate } from './util.js';
import { ME_KEY, cachedMe, loadMe, villageName, toast, hideToast, topbar, tabs } from './ui.js';

// The home screen's buttons: 夜学 and 夜议 open the town's sessions, 工作日志 its own page,
// the others the record form.
const KINDS = ['night_visit', 'night_study', 'night_discussion', 'night_help', 'stay_start', 'stay_end', 'work_log'];
const RECORD_KINDS = KINDS.filter((k) => k !== 'work_log');
const ID = /^[0-9A-Za-z-]{1,64}$/;
const WITH_HOUSEHOLD = ['night_visit', 'night_help'];
const LOW_ACCURACY_M = 100;

const root = document.getElementById('app');
let cleanup = null;
let notice = '';

// ---- routing ----

function route() {
  const hash = location.hash.replace(/^#/, '') || '/';
  if (typeof cleanup === 'function') cleanup();
  hideToast();
  cleanup = null;
  root.textContent = '';
  window.scrollTo(0, 0);
  if (!session()) {
    cleanup = loginScreen();
    return;
  }
  const [, first, second] = hash.split('/');
  if (first === 'record' && second === 'work_log') go('#/worklog'); // a log is not a check-in
  else if (first === 'record' && RECORD_KINDS.indexOf(second) >= 0) cleanup = recordScreen(second);
  else if (first === 'sessions' && SESSION_KINDS.indexOf(second) >= 0) cleanup = sessionsPage(root, second);
  else if (first === 'session-new' && SESSION_KINDS.indexOf(second) >= 0) cleanup = newSessionPage(root, second);
  else if (first === 'session' && ID.test(second || '')) cleanup = sessionPage(root, second);
  else if (first === 'attend' && ID.test(second || '')) cleanup = attendScreen(second);
  else if (first === 'worklog') cleanup = workLogPage(root, second);
  else if (first === 'progress') cleanup = progressPage(root);
  else if (first === 'score') cleanup = scorePage(root);
  else if (first === 'orders') cleanup = ordersPage(root);
  else cleanup = homeScreen();
}

export function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

// ---- 登录 ----

function loginScreen() {
  const phone = h('input', { id: 'phone', name: 'phone', type: 'tel', inputmode: 'numeric', autocomplete: 'username', required: true, maxlength: '20' });
  const password = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const error = h('p', { class: 'error', role: 'alert' }, notice);
  notice = '';
  const button = h('button', { type: 'submit', class: 'primary' }, '登录');
  const form = h('form', { class: 'card login', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'phone' }, '手机号'), phone),
    h('div', { class: 'field' }, h('label', { for: 'password' }, '密码'), password),
    button, error);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    if (!phone.value.trim() || !password.value) {
      error.textContent = '请填写手机号和密码';
      return;
    }
    button.disabled = true;
    button.textContent = '正在登录…';
    try {
      const s = await login(phone.value.trim(), password.value);
      const fresh = await loadMe();
      const role = (fresh && fresh.role) || s.user.role;
      if (role && role !== 'cadre') {
        await logout();
        error.textContent = '此应用供干部使用，督查办和管理员请在电脑上使用督查台';
        return;
      }
      password.value = '';
      go('#/');
      sync();
    } catch (e) {
      error.textContent = loginError(e);
    } finally {
      button.disabled = false;
      button.textContent = '登录';
    }
  });
  root.appendChild(h('div', { class: 'screen login-screen' },
    h('div', { class: 'hero' }, h('img', { src: 'icon.svg', alt: '', width: '72', height: '72' }), h('h1', null, '民情·干部'), h('p', null, '四夜 · 住夜 · 民情工单')),
    form));
  return null;
}

function loginError(e) {
  if (e && e.offline) return '网络不通，无法登录，请联网后再试';
  if (e instanceof ApiError) {
    if (e.status === 401) return '手机号或密码不正确';
    if (e.status === 429) {
      const minutes = e.retryAfter ? Math.max(1, Math.ceil(e.retryAfter / 60)) : 15;
      return `尝试次数过多，请 ${minutes} 分钟后再试`;
    }
    if (e.status === 403) return '此账号已停用';
    return problemText(e.problem, e.status);
  }
  return '登录失败，请稍后再试';
}

// What was kept for the signed-in person, but not their outbox: that is sent after their
// next sign-in.
function forgetUserData() {
  const drop = [];
  for (let i = 0; i < localStorage.length; i++) {
    const k = localStorage.key(i);
    if (k === ME_KEY || /^mq\.(score|orders|sessions|worklog)\./.test(k)) drop.push(k);
  }
  drop.forEach((k) => localStorage.removeItem(k));
}

// ---- home ----

function homeScreen() {
  const user = cachedMe() || {};
  const status = h('p', { class: 'outbox-line', id: 'outbox-line', 'aria-live': 'polite' });
  const list = h('ul', { class: 'records', id: 'records' });
  const sendNow = h('button', { type: 'button', class: 'small', onclick: () => { sync(); } }, '立即上传');
  const signOut = h('button', { type: 'button', class: 'signout', onclick: () => {
    signOut.disabled = true;
    logout(); // the tokens are gone at once; the server is told when it can be reached
    forgetUserData();
    notice = '';
    go('#/');
  } }, '退出');

  const target = (kind) => {
    if (kind === 'work_log') return '#/worklog';
    if (SESSION_KINDS.indexOf(kind) >= 0) return `#/sessions/${kind}`;
    return `#/record/${kind}`;
  };
  const buttons = KINDS.map((kind) => h('button', {
    type: 'button', class: `kind kind-${kind}`, onclick: () => go(target(kind)),
  }, kindLabel(kind)));

  root.appendChild(h('div', { class: 'screen home' },
    topbar(user.name ? `民情 · ${user.name}` : '民情', { right: signOut }),
    h('div', { class: 'outbox-bar' }, status, sendNow),
    h('div', { class: 'kinds' }, buttons),
    h('section', { class: 'card' }, h('h2', null, '我的记录'), list),
    tabs('#/')));

  let alive = true;
  async function refresh() {
    if (!alive || !session()) return;
    const uid = session().user.id;
    const [c, rows] = await Promise.all([counts(uid), listRecords(uid)]);
    if (!alive) return;
    const st = syncState();
    const parts = [`待上传 ${c.pending} 条`];
    if (c.sent) parts.push(`已上传 ${c.sent} 条`);
    if (c.failed) parts.push(`未通过 ${c.failed} 条`);
    const offline = navigator.onLine === false || st.lastError === 'offline';
    let tail = '';
    if (st.running && c.pending) tail = '正在上传…';
    else if (c.pending && offline) tail = '离线，联网后自动上传';
    else if (offline) tail = '离线';
    else if (c.pending && st.lastError === 'signed_out') tail = '请重新登录后上传';
    else if (c.pending && st.lastError) tail = `上次上传未成功：${st.lastError}`;
    status.textContent = parts.join(' · ') + (tail ? `（${tail}）` : '');
    status.className = c.failed ? 'outbox-line warn' : 'outbox-line';
    sendNow.hidden = !c.pending || st.running || navigator.onLine === false;
    list.textContent = '';
    if (!rows.length) list.appendChild(h('li', { class: 'empty' }, '还没有记录。点上面的按钮开始记录。'));
    rows.slice(0, 50).forEach((r) => list.appendChild(recordItem(r)));
  }
  onChangeViews.push(refresh);
  refresh();
  return () => {
    alive = false;
    const i = onChangeViews.indexOf(refresh);
    if (i >= 0) onChangeViews.splice(i, 1);
  };
}

function recordItem(r) {
  let statusText;
  let cls;
  if (r.state === 'sent') {
    const word = r.receipt && r.receipt.status === 'flagged' ? '待审核' : (r.receipt && r.receipt.status === 'accepted' ? '有效' : label('checkin_status', r.receipt && r.receipt.status, '已收到'));
    statusText = `已上传 · ${word}`;
    cls = r.receipt && r.receipt.status === 'flagged' ? 'rec sent flagged' : 'rec sent';
  } else if (r.state === 'failed') {
    statusText = `未通过：${r.reason || '提交被拒绝'}`;
    cls = 'rec failed';
  } else {
    statusText = '待上传';
    cls = 'rec pending';
  }
  const flags = r.state === 'sent' && r.receipt ? r.receipt.flags || [] : [];
  const b = r.body || {};
  const place = r.village_name || villageName(b.village_id) || '本镇';
  const attending = !!b.session_id;
  return h('li', { class: cls, 'data-id': r.id },
    h('div', { class: 'rec-head' },
      h('strong', { class: 'rec-kind' }, kindLabel(b.kind)),
      h('span', { class: 'rec-village' }, place),
      h('time', { datetime: b.recorded_at }, formatTime(b.recorded_at))),
    h('p', { class: 'rec-status' }, statusText),
    flags.length ? h('ul', { class: 'rec-flags' }, flags.map((f) => h('li', null, flagText(f, villageName)))) : null,
    attending ? h('p', { class: 'rec-note' }, `会议签到${r.session_topic ? `：${r.session_topic}` : ''}`) : null,
    b.household ? h('p', { class: 'rec-note' }, `走访户：${b.household}`) : null,
    b.note ? h('p', { class: 'rec-note' }, `备注：${b.note}`) : null,
    r.state === 'failed' ? h('button', { type: 'button', class: 'small ghost', onclick: async () => {
      if (window.confirm('删除这条未通过的记录？')) await removeFailed(r.id);
    } }, '删除') : null);
}

const onChangeViews = [];
onChange(() => onChangeViews.slice().forEach((f) => f()));

// ---- the record form (one for every kind; for a session, its attendance) ----

// Attendance at a 夜学 / 夜议 session: the record form, with the session instead of a village.
function attendScreen(id) {
  let inner = null;
  let alive = true;
  const body = h('div', { class: 'content' }, h('p', { class: 'loading' }, '正在加载…'));
  root.appendChild(h('div', { class: 'screen' }, topbar('会议签到', { back: true }), body));
  loadSession(id).then(({ data }) => {
    if (!alive) return;
    if (data.night_date !== nightDate()) {
      body.textContent = '';
      body.appendChild(h('p', { class: 'notice' }, `这是${formatTime(data.starts_at)}的会议，只能在当晚签到`));
      return;
    }
    root.textContent = '';
    inner = recordScreen(data.kind, data);
  }, (e) => {
    if (!alive) return;
    body.textContent = '';
    body.appendChild(h('p', { class: 'notice' }, errorText(e, '会议')));
  });
  return () => {
    alive = false;
    if (typeof inner === 'function') inner();
  };
}

// `meeting`: the session attended (its kind is `kind`), or null for a check-in in a village.
function recordScreen(kind, meeting = null) {
  const user = cachedMe() || {};
  const userId = session().user.id; // a record made as the session ends still belongs to them
  const villages = user.villages || [];
  let position = null;
  let photo = null; // a promise of {bytes, type}
  let watchDone = false;

  const posText = h('output', { id: 'position', class: 'position' }, '正在定位…');
  const posWarn = h('p', { class: 'warn', role: 'alert', hidden: true });
  const relocate = h('button', { type: 'button', class: 'small', onclick: () => locate() }, '重新定位');
  const village = h('select', { id: 'village', name: 'village', required: true });
  const photoInput = h('input', { id: 'photo', name: 'photo', type: 'file', accept: 'image/*', capture: 'environment' });
  const photoButton = h('span', { class: 'picker-face', 'aria-hidden': 'true' }, '拍照或选择照片');
  const photoState = h('p', { class: 'hint' });
  const preview = h('img', { class: 'preview', alt: '所选照片', hidden: true });
  const household = h('input', { id: 'household', name: 'household', type: 'text', maxlength: '100', autocomplete: 'off', placeholder: '户主姓名或门牌' });
  const note = h('textarea', { id: 'note', name: 'note', rows: '3', maxlength: '2000', placeholder: kind === 'work_log' ? '今天做了什么' : '' });
  const error = h('p', { class: 'error', role: 'alert' });
  const saveWord = meeting ? '签到' : '保存';
  const save = h('button', { type: 'submit', class: 'primary' }, saveWord);

  const meetingText = h('output', { id: 'meeting', class: 'position' });
  const meetingDistance = h('span', { class: 'coords' });
  if (meeting) {
    meetingText.appendChild(h('strong', null, meeting.topic));
    meetingText.appendChild(h('span', { class: 'coords' }, `${placeName(meeting)} · ${formatTime(meeting.starts_at)} · 组织人 ${meeting.organiser_name}`));
    meetingText.appendChild(meetingDistance);
  }

  function fillVillages() {
    if (meeting) {
      // The session's place counts; when it is one of the cadre's villages, how far it is.
      const spot = villages.find((v) => v.id === meeting.place_id);
      const d = spot && position ? sortVillages([spot], position)[0].distance : null;
      meetingDistance.textContent = d !== null && d !== undefined ? `距会议地点约 ${formatDistance(d)}` : '';
      return;
    }
    const chosen = village.value;
    const sorted = sortVillages(villages, position);
    village.textContent = '';
    if (!sorted.length) village.appendChild(h('option', { value: '' }, '（没有包联村，请联系督查办）'));
    sorted.forEach((v) => village.appendChild(h('option', { value: v.id },
      v.distance !== null ? `${v.name}（约 ${formatDistance(v.distance)}）` : v.name)));
    // Keep a village the cadre picked; otherwise the nearest.
    if (chosen && sorted.some((v) => v.id === chosen) && village.dataset.picked) village.value = chosen;
    else if (sorted.length) village.value = sorted[0].id;
  }
  village.addEventListener('change', () => { village.dataset.picked = '1'; });

  function locate() {
    posText.textContent = '正在定位…';
    posWarn.hidden = true;
    if (!navigator.geolocation) {
      posText.textContent = '此浏览器无法定位';
      return;
    }
    navigator.geolocation.getCurrentPosition((p) => {
      if (watchDone) return;
      position = { lat: p.coords.latitude, lon: p.coords.longitude, accuracy: p.coords.accuracy };
      const acc = Math.round(position.accuracy);
      posText.textContent = '';
      posText.appendChild(h('strong', null, `已定位，精度 ${acc} 米`));
      posText.appendChild(h('span', { class: 'coords' }, `纬度 ${position.lat.toFixed(5)}，经度 ${position.lon.toFixed(5)}`));
      if (position.accuracy > LOW_ACCURACY_M) {
        posWarn.textContent = `定位精度较差（${acc} 米），可能被标记`;
        posWarn.hidden = false;
      }
      fillVillages();
    }, (err) => {
      if (watchDone) return;
      posText.textContent = err && err.code === 1 ? '未允许定位：请在设置中允许本应用使用位置' : '定位失败，请到空旷处点“重新定位”';
    }, { enableHighAccuracy: true, timeout: 30000, maximumAge: 0 });
  }

  photoInput.addEventListener('change', () => {
    const file = photoInput.files && photoInput.files[0];
    preview.hidden = true;
    if (!file) { photo = null; photoState.textContent = ''; photoButton.textContent = '拍照或选择照片'; return; }
    photoButton.textContent = '换一张照片';
    photoState.textContent = '正在处理照片…';
    photo = preparePhoto(file);
    photo.then((p) => {
      photoState.textContent = p.width ? `照片已压缩（${p.width}×${p.height}，约 ${Math.round(p.bytes.byteLength / 1024)} 千字节）` : '照片已选好';
      const url = URL.createObjectURL(new Blob([p.bytes], { type: p.type }));
      preview.onload = () => URL.revokeObjectURL(url);
      preview.src = url;
      preview.hidden = false;
    }, (e) => {
      photoState.textContent = e.message || '无法读取这张照片，请换一张';
      photo = null;
      photoInput.value = '';
      photoButton.textContent = '拍照或选择照片';
    });
  });

  const form = h('form', { class: 'card record', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'position' }, '位置'), h('div', { class: 'row' }, posText, relocate), posWarn),
    meeting
      ? h('div', { class: 'field' }, h('label', { for: 'meeting' }, '会议'), meetingText)
      : h('div', { class: 'field' }, h('label', { for: 'village' }, '村'), village),
    h('div', { class: 'field' }, h('label', { for: 'photo' }, '照片'), h('div', { class: 'picker' }, photoButton, photoInput), photoState, preview),
    WITH_HOUSEHOLD.indexOf(kind) >= 0 ? h('div', { class: 'field' }, h('label', { for: 'household' }, '走访户'), household) : null,
    h('div', { class: 'field' }, h('label', { for: 'note' }, '备注'), note),
    error, save);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    if (!position) { error.textContent = '还没有定位成功，请稍候或点“重新定位”'; return; }
    if (!meeting && !village.value) { error.textContent = '请选择村'; return; }
    save.disabled = true;
    save.textContent = meeting ? '正在签到…' : '正在保存…';
    try {
      let ready = null;
      if (photo) {
        try { ready = await photo; } catch (e) { error.textContent = '照片无法读取，请重新选择'; return; }
      }
      const chosen = villages.find((v) => v.id === village.value);
      await saveRecord(userId, {
        kind,
        village_id: meeting ? null : village.value,
        session_id: meeting ? meeting.id : null,
        village_name: meeting ? placeName(meeting) : (chosen ? chosen.name : ''),
        session_topic: meeting ? meeting.topic : '',
        lat: position.lat,
        lon: position.lon,
        accuracy_m: Math.round(position.accuracy * 10) / 10,
        note: note.value.trim(),
        household: WITH_HOUSEHOLD.indexOf(kind) >= 0 ? household.value.trim() : '',
      }, ready);
      if (meeting) {
        go(`#/session/${meeting.id}`);
        toast(`${kindLabel(kind)}签到已保存`);
      } else {
        go('#/');
        toast(`${kindLabel(kind)}已保存`);
      }
      sync();
    } catch (e) {
      error.textContent = '保存失败：手机存储不可用，请重试';
    } finally {
      save.disabled = false;
      save.textContent = saveWord;
    }
  });

  const title = meeting ? `${kindLabel(kind)}签到` : kindLabel(kind);
  const back = meeting ? `#/session/${meeting.id}` : true;
  root.appendChild(h('div', { class: 'screen' }, topbar(title, { back }), form));
  fillVillages();
  locate();
  return () => { watchDone = true; };
}

// ---- start ----

function registerWorker() {
  if (!('serviceWorker' in navigator)) return;
  const hadController = !!navigator.serviceWorker.controller;
  navigator.serviceWorker.register('sw.js', { scope: './', updateViaCache: 'none' }).catch(() => { /* works online without it */ });
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (!hadController) return; // the first install: nothing changes for this page
    const bar = h('div', { class: 'update', role: 'status' }, '新版本已就绪 ',
      h('button', { type: 'button', class: 'small', onclick: () => location.reload() }, '刷新'));
    document.body.appendChild(bar);
  });
}

function start() {
  registerWorker();
  onSignedOut(() => {
    notice = '登录已过期，请重新登录（未上传的记录会保留）';
    // A record being filled in is still saved (to the outbox) before the sign-in screen.
    if (location.hash.indexOf('#/record/') !== 0 && location.hash.indexOf('#/attend/') !== 0) go('#/');
  });
  window.addEventListener('hashchange', route);
  window.addEventListener('online', () => { refreshLabels(); sync(); });
  window.addEventListener('offline', () => onChangeViews.slice().forEach((f) => f()));
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible' && session()) sync(); });
  setInterval(async () => {
    const s = session();
    if (!s || navigator.onLine === false) return;
    const c = await counts(s.user.id);
    if (c.pending) sync();
  }, 30000);
  route();
  getDeviceId().catch(() => {});
  refreshLabels().then((changed) => { if (changed && session()) onChangeViews.slice().forEach((f) => f()); });
  if (session()) {
    loadMe().then(() => { if (session()) onChangeViews.slice().forEach((f) => f()); });
    sync();
  }
}

start();
