// 工作日志 (DESIGN §2.1): today's log written or edited on its day (at least 20 characters not
// counting spaces, photos), and a month of logs — the days with and without one, the
// leaders' comments (批阅), whether a log can still be changed. A log is not a check-in: it
// goes straight to the server, so writing one needs the network (the text waits on the
// phone as a draft meanwhile). The month is shown offline from the last copy.

import { api, session, ApiError } from './api.js';
import { problemText } from './labels.js';
import { uploadPhotos, thumbnails } from './photo.js';
import { fetchKept, errorText, staleNote } from './pages.js';
import { h, formatTime, formatDate, localDate } from './util.js';
import { topbar, toast, navigate } from './ui.js';

export const MIN_CHARS = 20;
const MAX_PHOTOS = 9;

// Characters that count: everything but white space (as the server counts them).
export function writtenChars(text) {
  return Array.from(String(text || '')).filter((c) => !/\s/.test(c)).length;
}

function distinctChars(text) {
  return new Set(Array.from(String(text || '')).filter((c) => !/\s/.test(c))).size;
}

function monthWords(month) {
  const [y, m] = month.split('-').map(Number);
  return `${y}年${m}月`;
}

function shiftMonth(month, by) {
  const [y, m] = month.split('-').map(Number);
  const d = new Date(Date.UTC(y, m - 1 + by, 1));
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

const offline = () => navigator.onLine === false;

export function workLogPage(root, wanted) {
  const uid = session().user.id;
  const today = localDate();
  const thisMonth = today.slice(0, 7);
  const month = /^\d{4}-\d{2}$/.test(wanted || '') && wanted <= thisMonth ? wanted : thisMonth;
  const draftKey = `mq.worklog.${uid}.draft`;
  const body = h('div', { class: 'content' }, h('p', { class: 'loading' }, '正在加载…'));
  root.appendChild(h('div', { class: 'screen' }, topbar('工作日志', { back: true }), body));
  let alive = true;
  let target = today; // the day the form writes
  const data = {}; // month → {data, at}
  let loadError = null;

  const load = async (m) => {
    data[m] = await fetchKept(`mq.worklog.${uid}.${m}`, `/work-logs?month=${m}`);
  };
  const dayOf = (date) => {
    const m = data[date.slice(0, 7)];
    return m ? (m.data.days || []).find((d) => d.date === date) : null;
  };

  function render() {
    if (!alive) return;
    body.textContent = '';
    if (offline()) {
      body.appendChild(h('p', { class: 'notice warn-box', role: 'status' }, '没有网络：工作日志要联网才能提交和查看最新批阅。可以先写，写好的内容留在本机，联网后再点提交。'));
    }
    if (loadError) body.appendChild(h('p', { class: 'notice' }, loadError));
    body.appendChild(editor());
    body.appendChild(monthCard());
  }

  // ---- the form: today's log (or another day's still open for changes) ----
  function editor() {
    const day = dayOf(target);
    const log = day ? day.log : null;
    const locked = !!log && !log.editable;
    let draft = null;
    try { draft = JSON.parse(localStorage.getItem(draftKey) || 'null'); } catch (e) { draft = null; }
    const fromDraft = draft && draft.date === target && draft.content && (!log || draft.content !== log.content) && !locked;
    const text = h('textarea', { id: 'worklog-content', name: 'content', rows: '7', maxlength: '5000', readonly: locked,
      placeholder: '今天做了哪些工作：走访农户、开会学习、办理工单、住夜值班等' });
    text.value = fromDraft ? draft.content : (log ? log.content : '');
    const counter = h('p', { class: 'counter', id: 'worklog-count', 'aria-live': 'polite' });
    const showCount = () => {
      const n = writtenChars(text.value);
      counter.textContent = n >= MIN_CHARS ? `已写 ${n} 字（至少 ${MIN_CHARS} 字，不计空格）✓` : `已写 ${n} 字，还差 ${MIN_CHARS - n} 字（至少 ${MIN_CHARS} 字，不计空格）`;
      counter.className = n >= MIN_CHARS ? 'counter ok' : 'counter';
    };
    text.addEventListener('input', () => {
      showCount();
      try { localStorage.setItem(draftKey, JSON.stringify({ date: target, content: text.value })); } catch (e) { /* full */ }
    });
    showCount();

    let keptIds = log ? (log.photo_ids || []).slice() : [];
    const photos = h('input', { id: 'worklog-photos', name: 'photos', type: 'file', accept: 'image/*', multiple: true });
    const face = h('span', { class: 'picker-face', 'aria-hidden': 'true' }, '拍照或选择照片');
    photos.addEventListener('change', () => {
      const n = photos.files ? photos.files.length : 0;
      face.textContent = n ? `已选 ${n} 张，点此更换` : '拍照或选择照片';
    });
    const error = h('p', { class: 'error', role: 'alert' });
    const label = log ? '保存修改' : '提交日志';
    const submit = h('button', { type: 'submit', class: 'primary', disabled: offline() }, label);

    let state;
    if (!log) state = '还没有填写';
    else if (log.editable) state = `已提交（${formatTime(log.updated_at)}），当天可修改，次日 6:00 后锁定`;
    else state = '已提交，已过修改时间';

    const form = h('form', { class: 'card worklog', novalidate: true },
      h('h2', null, target === today ? `今天（${formatDate(target)}）的工作日志` : `${formatDate(target)}的工作日志`),
      h('p', { class: log ? 'state done' : 'state' }, state),
      fromDraft ? h('p', { class: 'hint' }, '已恢复本机保存的未提交内容') : null,
      h('div', { class: 'field' }, h('label', { for: 'worklog-content' }, '工作内容'), text, counter),
      locked ? (keptIds.length ? thumbnails(keptIds) : null) : h('div', { class: 'field' }, h('label', { for: 'worklog-photos' }, '照片'),
        keptIds.length ? thumbnails(keptIds, { remove: (id) => { keptIds = keptIds.filter((x) => x !== id); } }) : null,
        h('div', { class: 'picker' }, face, photos),
        h('p', { class: 'hint' }, `可选，最多 ${MAX_PHOTOS} 张${keptIds.length ? '，点 × 可移除已传的照片' : ''}`)),
      locked ? null : error,
      locked ? null : submit,
      locked || !offline() ? null : h('p', { class: 'hint' }, '联网后才能提交'),
      target !== today ? h('button', { type: 'button', class: 'ghost wide-in', onclick: () => { target = today; render(); } }, '改写今天的日志') : null,
      log && (log.comments || []).length ? comments(log.comments) : null);

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.textContent = '';
      const content = text.value.trim();
      const n = writtenChars(content);
      if (n < MIN_CHARS) { error.textContent = `内容至少 ${MIN_CHARS} 字（不计空格），现在 ${n} 字`; text.focus(); return; }
      if (distinctChars(content) < 5) { error.textContent = '请写清当天做了什么，不要只重复几个字'; return; }
      const files = photos.files ? Array.prototype.slice.call(photos.files) : [];
      if (keptIds.length + files.length > MAX_PHOTOS) { error.textContent = `照片最多 ${MAX_PHOTOS} 张`; return; }
      if (offline()) { error.textContent = '没有网络，日志没有提交：工作日志要联网提交，请联网后再试（内容已留在本机）'; return; }
      submit.disabled = true;
      try {
        let ids = [];
        if (files.length) ids = await uploadPhotos(files, (i, total) => { submit.textContent = `正在上传照片 ${i}/${total}…`; });
        submit.textContent = '正在提交…';
        await api('POST', '/work-logs', { json: { date: target, content, photo_ids: keptIds.concat(ids) } });
        localStorage.removeItem(draftKey);
        toast(log ? '工作日志已修改' : '工作日志已提交');
        target = today;
        await reload();
      } catch (e) {
        error.textContent = writeError(e);
        submit.disabled = offline();
        submit.textContent = label;
      }
    });
    return form;
  }

  // ---- the month ----
  function monthCard() {
    const m = data[month];
    const prev = shiftMonth(month, -1);
    const next = shiftMonth(month, 1);
    const nav = h('div', { class: 'month-nav' },
      h('button', { type: 'button', class: 'small ghost', onclick: () => navigate(`#/worklog/${prev}`) }, '‹ 上月'),
      h('h2', null, monthWords(month)),
      next <= thisMonth ? h('button', { type: 'button', class: 'small ghost', onclick: () => navigate(next === thisMonth ? '#/worklog' : `#/worklog/${next}`) }, '下月 ›') : h('span', { class: 'nav-space' }));
    const card = h('section', { class: 'card month' }, nav);
    if (!m) {
      card.appendChild(h('p', { class: 'hint' }, loadError ? '暂时无法查看' : '正在加载…'));
      return card;
    }
    const d = m.data;
    card.appendChild(h('p', { class: 'summary' }, `已填写 ${d.days_with_log} 天 · 未填写 ${d.days_without_log} 天`));
    const days = d.days || [];
    if (!days.length) card.appendChild(h('p', { class: 'hint' }, '这个月还没有要填写的日子'));
    card.appendChild(h('ul', { class: 'days' }, days.map((day) => dayItem(day))));
    const stale = staleNote(m.at);
    if (stale) card.appendChild(stale);
    return card;
  }

  function dayItem(day) {
    const log = day.log;
    if (!log) {
      return h('li', { class: 'day missing', 'data-date': day.date },
        h('div', { class: 'day-head' }, h('strong', null, formatDate(day.date)), h('span', { class: 'badge bad' }, '未填写')));
    }
    const edits = (log.history || []).length;
    const meta = [`${formatTime(log.updated_at)} 提交`];
    if ((log.photo_ids || []).length) meta.push(`照片 ${log.photo_ids.length} 张`);
    if (edits) meta.push(`修改过 ${edits} 次`);
    return h('li', { class: 'day has', 'data-date': day.date },
      h('div', { class: 'day-head' },
        h('strong', null, formatDate(day.date)),
        h('span', { class: 'badge b-ok' }, '已填写'),
        h('span', { class: log.editable ? 'badge b-warn' : 'badge' }, log.editable ? '可修改' : '已锁定')),
      h('p', { class: 'excerpt' }, log.content),
      h('p', { class: 'hint' }, meta.join(' · ')),
      (log.comments || []).length ? comments(log.comments) : h('p', { class: 'hint' }, '暂无批阅'),
      log.editable && day.date !== target ? h('button', { type: 'button', class: 'small', onclick: () => { target = day.date; render(); window.scrollTo(0, 0); } }, '修改') : null);
  }

  async function reload() {
    loadError = null;
    const months = [month];
    if (target.slice(0, 7) !== month) months.push(target.slice(0, 7));
    try {
      await Promise.all(months.map(load));
    } catch (e) {
      loadError = errorText(e, '工作日志');
    }
    render();
  }

  const onNet = () => render();
  window.addEventListener('online', onNet);
  window.addEventListener('offline', onNet);
  reload();
  return () => {
    alive = false;
    window.removeEventListener('online', onNet);
    window.removeEventListener('offline', onNet);
  };
}

function comments(list) {
  const sorted = list.slice().sort((a, b) => (a.created_at < b.created_at ? -1 : 1));
  return h('div', { class: 'comments' },
    h('h3', null, `领导批阅（${sorted.length} 条）`),
    h('ul', null, sorted.map((c) => h('li', null,
      h('p', { class: 'comment-head' }, h('strong', null, c.author_name || '领导'), h('time', { datetime: c.created_at }, formatTime(c.created_at))),
      h('p', { class: 'prose' }, c.text)))));
}

function writeError(e) {
  if (e && e.offline) return '网络不通，日志没有提交：请联网后再试（内容已留在本机）';
  if (e && e.signedOut) return '登录已过期，请重新登录';
  if (e instanceof ApiError) {
    const fields = (e.problem && Array.isArray(e.problem.errors) ? e.problem.errors : []).map((x) => x && x.field);
    if (e.status === 409) return '这一天的日志已过修改时间，不能再改';
    if (e.status === 422 && fields.indexOf('date') >= 0) return '只能填写当天的日志（次日 6:00 前可改前一天的）';
    if (e.status === 422 && fields.indexOf('content') >= 0) return `内容不符合要求：至少 ${MIN_CHARS} 字（不计空格），写清当天做了什么`;
    if (e.status === 403) return '只有干部本人可以填写工作日志';
    return problemText(e.problem, e.status);
  }
  if (e && e.message) return e.message;
  return '日志没有提交，请稍后再试';
}
