// 本月进度, 我的得分, 我的工单: read from the API when online, the last copy kept for offline.

import { api, session, ApiError } from './api.js';
import { label, problemText } from './labels.js';
import { preparePhoto } from './photo.js';
import { h, num, formatTime, currentPeriod } from './util.js';
import { topbar, tabs, villageName, toast } from './ui.js';

const CHECKIN_METRICS = {
  night_visit: '次', night_study: '次', night_discussion: '次', night_help: '次',
  four_nights: '次', stays: '晚', work_log_days: '天',
};

export function keep(key, data) {
  try { localStorage.setItem(key, JSON.stringify({ data, at: Date.now() })); } catch (e) { /* full: skip */ }
}

export function kept(key) {
  try { return JSON.parse(localStorage.getItem(key) || 'null'); } catch (e) { return null; }
}

// GET `path`; offline, the copy kept under `key` (with its time), else the error.
export async function fetchKept(key, path) {
  try {
    const data = await api('GET', path);
    keep(key, data);
    return { data, at: null };
  } catch (e) {
    const old = e && (e.offline || e.status >= 500) ? kept(key) : null;
    if (old) return { data: old.data, at: old.at };
    throw e;
  }
}

export function errorText(e, what) {
  if (e && e.offline) return `网络不通，联网后可查看${what}`;
  if (e && e.signedOut) return '登录已过期，请重新登录';
  if (e instanceof ApiError) return problemText(e.problem, e.status);
  return `${what}暂时无法查看`;
}

export function staleNote(at) {
  return at ? h('p', { class: 'hint stale' }, `离线，显示的是 ${formatTime(at)} 的数据`) : null;
}

function page(root, title, hash) {
  const body = h('div', { class: 'content' }, h('p', { class: 'loading' }, '正在加载…'));
  root.appendChild(h('div', { class: 'screen' }, topbar(title), body, tabs(hash)));
  return body;
}

// ---- scores (本月进度 and 我的得分 read the same answer) ----

function scoreError(e) {
  if (e instanceof ApiError) {
    if (e.status === 403) return '没有查看得分的权限';
    if (e.status === 404) return '暂无你的考核数据（尚未纳入本月或本季度的考核方案）';
    if (e.status === 422) return '考核方案尚未设置，暂无得分';
  }
  return errorText(e, '得分');
}

// This month's score; for a cadre whose scheme is quarterly (班子成员), this quarter's.
async function loadScore() {
  const s = session();
  const get = async (kind) => {
    const { period, words } = currentPeriod(new Date(), kind);
    const result = await fetchKept(`mq.score.${s.user.id}.${period}`, `/scores/${encodeURIComponent(s.user.id)}?period=${period}`);
    return Object.assign({ words, period }, result);
  };
  try {
    return await get('month');
  } catch (e) {
    if (!(e instanceof ApiError) || (e.status !== 404 && e.status !== 422)) throw e;
    try {
      return await get('quarter');
    } catch (again) {
      throw e;
    }
  }
}

export function progressPage(root) {
  const body = page(root, '本月进度', '#/progress');
  let alive = true;
  loadScore().then(({ data, at, words }) => {
    if (!alive) return;
    body.textContent = '';
    const lines = (data.breakdown || []).filter((l) => CHECKIN_METRICS[l.metric]);
    body.appendChild(h('section', { class: 'card' },
      h('h2', null, `${words}完成情况`),
      lines.length ? h('ul', { class: 'bars' }, lines.map(progressLine)) : h('p', { class: 'hint' }, '本月考核方案没有四夜、住夜或工作日志的指标'),
      h('p', { class: 'hint' }, '只计有效和审核通过的记录；待审核的记录通过后计入。'),
      staleNote(at)));
  }, (e) => {
    if (!alive) return;
    body.textContent = '';
    body.appendChild(h('p', { class: 'notice' }, scoreError(e)));
  });
  return () => { alive = false; };
}

function progressLine(line) {
  const unit = CHECKIN_METRICS[line.metric] || '';
  const value = line.value === null || line.value === undefined ? 0 : Number(line.value);
  const target = Number(line.target);
  const name = line.name || label('metric', line.metric, '');
  const hasTarget = isFinite(target) && target > 0;
  const pct = hasTarget ? Math.min(100, Math.round((value / target) * 100)) : 0;
  const done = hasTarget && value >= target;
  return h('li', { class: done ? 'bar done' : 'bar' },
    h('div', { class: 'bar-head' },
      h('span', { class: 'bar-name' }, name),
      h('span', { class: 'bar-value' }, hasTarget ? `${num(value)} / ${num(target)} ${unit}` : `${num(value)} ${unit}`)),
    hasTarget ? h('div', { class: 'track', role: 'progressbar', 'aria-label': name, 'aria-valuemin': '0', 'aria-valuemax': String(target), 'aria-valuenow': String(value) },
      h('div', { class: 'fill', style: `width:${pct}%` })) : null);
}

export function scorePage(root) {
  const body = page(root, '我的得分', '#/score');
  let alive = true;
  const showTasks = (period) => loadTasks(period).then((card) => {
    if (alive && card) body.appendChild(card);
  });
  loadScore().then(({ data, at, words, period }) => {
    if (!alive) return;
    body.textContent = '';
    body.appendChild(scoreSummary(data, words, at));
    body.appendChild(breakdown(data));
    const extra = adjustmentsAndVetoes(data);
    if (extra) body.appendChild(extra);
    return showTasks(period);
  }, (e) => {
    if (!alive) return;
    body.textContent = '';
    body.appendChild(h('p', { class: 'notice' }, scoreError(e)));
    return showTasks(currentPeriod(new Date(), 'month').period);
  });
  return () => { alive = false; };
}

// 待测评: the colleagues to rate in the period of the score shown, rated or not; nothing
// when they cannot be read (offline with no copy kept).
async function loadTasks(period) {
  const s = session();
  let result;
  try {
    result = await fetchKept(`mq.tasks.${s.user.id}.${period}`, `/scoring/rating-tasks?period=${encodeURIComponent(period)}`);
  } catch (e) {
    return null;
  }
  const t = result.data || {};
  const items = Array.isArray(t.items) ? t.items : [];
  return h('section', { class: 'card rating-tasks' },
    h('h2', null, '待测评 ', h('span', { class: 'badge' }, `已评 ${Number(t.done) || 0}/${Number(t.total) || 0}`)),
    items.length
      ? h('ul', { class: 'plain' }, items.map((i) => h('li', null, i.name || '',
        h('span', { class: i.rated ? 'badge b-ok' : 'badge b-warn' }, i.rated ? '已评' : '未评'))))
      : h('p', { class: 'hint' }, '本期没有需要你测评的同事'),
    staleNote(result.at));
}

function rankText(d) {
  if (d.town_rank && d.town_of) return `镇内第 ${d.town_rank} 名 / 共 ${d.town_of} 人`;
  if (d.rank && d.of) return `第 ${d.rank} 名 / 共 ${d.of} 人`;
  return '';
}

function scoreFlagText(flag, d) {
  if (typeof flag !== 'string') return '';
  if (flag.indexOf('capped:') === 0) {
    const code = flag.slice(7);
    const line = (d.breakdown || []).find((l) => l.code === code);
    return line ? `${line.name}已达上限` : '';
  }
  if (flag === 'veto') return ''; // shown with the vetoes
  return label('score_flag', flag, '');
}

// Frozen, or live: a running period's score is not final, it moves with every record.
function standingText(d, words) {
  if (d.frozen) return `${words}（已结算）`;
  const elapsed = Number(d.elapsed);
  if (d.elapsed === undefined || d.elapsed === null || !isFinite(elapsed)) return `${words}（实时，期末结算）`;
  if (elapsed >= 1) return `${words}已结束，尚未结算，分数仍随记录变化`;
  return `${words}进行中：已过 ${Math.round(elapsed * 100)}%，分数随记录变化`;
}

function scoreSummary(d, words, at) {
  const grade = label('grade', d.grade, '');
  const flags = (d.flags || []).map((f) => scoreFlagText(f, d)).filter(Boolean);
  return h('section', { class: 'card score-total' },
    h('p', { class: 'period' }, standingText(d, words)),
    h('p', { class: 'total' }, h('strong', null, num(d.total, 2)), h('span', null, ' 分')),
    h('p', { class: 'grade' }, grade ? `等级：${grade}` : null, d.veto ? h('span', { class: 'badge bad' }, '一票否决') : null),
    rankText(d) ? h('p', { class: 'rank' }, rankText(d)) : null,
    flags.length ? h('ul', { class: 'tags' }, flags.map((f) => h('li', null, f))) : null,
    staleNote(at));
}

function lineValue(l) {
  if (l.value === null || l.value === undefined) return '无数据';
  const v = Number(l.value);
  if (l.rule === 'rate' || /_rate$/.test(l.metric) || l.metric === 'avg_satisfaction') return `${num(v * 100)}%`;
  const unit = CHECKIN_METRICS[l.metric] || (/^work_orders|rejected_checkins/.test(l.metric) ? '件' : '');
  const target = Number(l.target);
  return isFinite(target) && target > 0 && l.target !== null ? `${num(v)} / ${num(target)} ${unit}`.trim() : `${num(v)} ${unit}`.trim();
}

function signed(points) {
  const p = Number(points);
  return `${p > 0 ? '+' : ''}${num(p, 2)}`;
}

// Lines 大项 by 大项 (the scheme's order; lines outside any last), each group under a row
// with its subtotal; a line left out (no work orders) reads 不适用.
function breakdown(d) {
  const groups = Array.isArray(d.groups) ? d.groups : [];
  const at = (l) => { const i = groups.findIndex((g) => g.name === l.group); return i < 0 ? groups.length : i; };
  const lines = (d.breakdown || []).map((l, i) => [l, i]).sort((a, b) => at(a[0]) - at(b[0]) || a[1] - b[1]).map((x) => x[0]);
  const rows = [];
  let shown = null;
  for (const l of lines) {
    const g = groups[at(l)];
    if (g && g !== shown) {
      const cap = g.cap !== null && g.cap !== undefined ? `（上限 ${num(g.cap, 2)}）` : '';
      rows.push(h('tr', { class: 'group' }, h('th', { scope: 'rowgroup', colspan: '2' }, g.name + cap), h('td', { class: 'pts' }, num(g.points, 2))));
    }
    shown = g || shown;
    rows.push(h('tr', null,
      h('th', { scope: 'row' }, l.name || label('metric', l.metric, '指标')),
      h('td', null, l.excluded ? '不适用（分值计入其他指标）' : lineValue(l)),
      h('td', { class: 'pts' }, l.excluded ? '—' : num(l.points, 2))));
  }
  const dem = d.democratic_detail;
  if (d.democratic !== undefined && d.democratic !== null) {
    rows.push(h('tr', null,
      h('th', { scope: 'row' }, '民主测评'),
      h('td', null, dem && dem.raters ? `${num(dem.score)} 分（${dem.raters} 人评）` : '暂无评议'),
      h('td', { class: 'pts' }, num(d.democratic, 2))));
  }
  return h('section', { class: 'card' },
    h('h2', null, '得分明细'),
    h('table', { class: 'breakdown' },
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, '指标'), h('th', { scope: 'col' }, '完成'), h('th', { scope: 'col' }, '得分'))),
      h('tbody', null, rows)));
}

function adjustmentsAndVetoes(d) {
  const parts = [];
  const items = Array.isArray(d.adjustment_items) ? d.adjustment_items : null;
  if (items && items.length) {
    parts.push(h('h2', null, '加减分'), h('ul', { class: 'plain' }, items.map((a) => h('li', null,
      h('strong', { class: Number(a.points) < 0 ? 'minus' : 'plus' }, `${signed(a.points)} 分`), ' ', a.reason || '',
      a.approved === false ? h('span', { class: 'badge' }, '待审批') : null))));
  } else if (Number(d.adjustments)) {
    parts.push(h('h2', null, '加减分'), h('p', null, `合计 ${signed(d.adjustments)} 分`));
  }
  // Each veto by its area's stored name (the county may add areas), with its status when it
  // does not simply count: 待审批 (not counted yet), 撤销待审批 (counted until approved).
  const vetoes = Array.isArray(d.veto_items) && d.veto_items.length
    ? d.veto_items.map((v) => [`${v.area_name || label('veto_area', v.area, '一票否决')}${v.reason ? `：${v.reason}` : ''}`,
      v.status && v.status !== 'approved' ? h('span', { class: 'badge' }, label('veto_status', v.status, '待审批')) : null])
    : (d.veto_areas || []).map((a) => [label('veto_area', a, '一票否决')]);
  if (d.veto && !vetoes.length) vetoes.push(['一票否决']);
  if (vetoes.length) {
    parts.push(h('h2', null, '一票否决'), h('ul', { class: 'plain bad' }, vetoes.map((v) => h('li', null, ...v))),
      h('p', { class: 'hint' }, '被一票否决的，本期不能评为优秀。'));
  }
  return parts.length ? h('section', { class: 'card' }, parts) : null;
}

// ---- 我的工单 ----

const OPEN = ['submitted', 'assigned', 'in_progress', 'reopened'];
let formCount = 0;

async function categoryNames() {
  const key = 'mq.categories';
  try {
    const { data } = await fetchKept(key, '/categories?limit=500');
    const map = {};
    (data.items || []).forEach((c) => { map[c.code] = c.name; });
    return map;
  } catch (e) {
    return {};
  }
}

export function ordersPage(root) {
  const body = page(root, '我的工单', '#/orders');
  let alive = true;
  let cursor = null;
  let orders = [];
  let names = {};
  let at = null;
  const s = session();
  const key = `mq.orders.${s.user.id}`;

  async function load(more) {
    const path = `/work-orders?assignee_id=${encodeURIComponent(s.user.id)}&limit=50${more && cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const [result, cats] = await Promise.all([more ? api('GET', path).then((data) => ({ data, at: null })) : fetchKept(key, path), more ? names : categoryNames()]);
    names = cats;
    at = result.at;
    orders = more ? orders.concat(result.data.items || []) : (result.data.items || []);
    cursor = result.data.next_cursor || null;
  }

  function render() {
    if (!alive) return;
    body.textContent = '';
    const open = orders.filter((o) => OPEN.indexOf(o.status) >= 0);
    const done = orders.filter((o) => OPEN.indexOf(o.status) < 0);
    if (at) body.appendChild(staleNote(at));
    body.appendChild(h('section', { class: 'orders' }, h('h2', null, `待办 ${open.length} 件`),
      open.length ? open.map(orderCard) : h('p', { class: 'hint' }, '没有待办的工单')));
    if (done.length) body.appendChild(h('section', { class: 'orders' }, h('h2', null, `已办 ${done.length} 件`), done.map(orderCard)));
    if (cursor && !at) {
      body.appendChild(h('button', { type: 'button', class: 'wide', onclick: () => load(true).then(render, (e) => toast(errorText(e, '工单'))) }, '加载更多'));
    }
  }

  function orderCard(o) {
    const status = label('work_order_status', o.status, '办理中');
    const actions = h('div', { class: 'actions' });
    const formSlot = h('div');
    const act = (text, run) => h('button', { type: 'button', disabled: !!at, onclick: run }, text);
    if (o.status === 'assigned' || o.status === 'reopened') actions.appendChild(act('接单', () => accept(o)));
    if (o.status === 'in_progress') actions.appendChild(act('填写进展', () => openForm(o, formSlot, 'progress')));
    if (o.status === 'in_progress' || o.status === 'reopened') actions.appendChild(act('办结', () => openForm(o, formSlot, 'resolve')));
    const phone = o.reporter_phone || '';
    const callable = /^\+?\d[\d-]{5,}$/.test(phone);
    let due = null;
    if (o.status === 'resolved' || o.status === 'closed') {
      due = o.resolved_at ? `已于 ${formatTime(o.resolved_at)} 办结` : null;
    } else if (o.due_at && OPEN.indexOf(o.status) >= 0) {
      due = `承诺 ${formatTime(o.due_at)} 前办结`;
    }
    return h('article', { class: o.overdue ? 'order overdue' : 'order' },
      h('header', null,
        h('h3', null, o.title || '（无标题）'),
        h('span', { class: `badge st-${o.status}` }, status),
        o.overdue ? h('span', { class: 'badge bad' }, '已超期') : null),
      h('p', { class: 'meta' }, [o.code, names[o.category] || '', villageName(o.village_id) || '本镇'].filter(Boolean).join(' · ')),
      o.description ? h('p', { class: 'desc' }, o.description) : null,
      due ? h('p', { class: o.overdue ? 'due bad' : 'due' }, due) : null,
      o.reporter_name || phone ? h('p', { class: 'reporter' }, `反映人：${o.reporter_name || '群众'} `,
        phone ? (callable ? h('a', { href: `tel:${phone}`, class: 'tel' }, `回访 ${phone}`) : h('span', null, phone)) : null) : null,
      h('p', { class: 'hint' }, `${formatTime(o.created_at)} 反映`),
      actions, formSlot);
  }

  async function accept(o) {
    try {
      await api('POST', `/work-orders/${encodeURIComponent(o.id)}/accept`);
      toast('已接单');
      await reload();
    } catch (e) {
      toast(stepError(e));
    }
  }

  function openForm(o, slot, step) {
    slot.textContent = '';
    const resolve = step === 'resolve';
    formCount += 1;
    const noteId = `order-note-${formCount}`;
    const photoId = `order-photo-${formCount}`;
    const note = h('textarea', { id: noteId, rows: '3', maxlength: '2000', required: true });
    const photo = h('input', { id: photoId, type: 'file', accept: 'image/*', capture: 'environment' });
    const face = h('span', { class: 'picker-face', 'aria-hidden': 'true' }, '拍照或选择照片');
    photo.addEventListener('change', () => { face.textContent = photo.files && photo.files[0] ? '已选 1 张，点此更换' : '拍照或选择照片'; });
    const error = h('p', { class: 'error', role: 'alert' });
    const submit = h('button', { type: 'submit', class: 'primary' }, resolve ? '确认办结' : '提交进展');
    const cancel = h('button', { type: 'button', class: 'ghost', onclick: () => { slot.textContent = ''; } }, '取消');
    const form = h('form', { class: 'step-form', novalidate: true },
      h('div', { class: 'field' }, h('label', { for: noteId }, resolve ? '办结说明' : '进展说明'), note),
      h('div', { class: 'field' }, h('label', { for: photoId }, '照片'), h('div', { class: 'picker' }, face, photo)),
      error, h('div', { class: 'row' }, submit, cancel));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (!note.value.trim()) { error.textContent = resolve ? '请填写办结说明' : '请填写进展说明'; return; }
      submit.disabled = true;
      error.textContent = '';
      try {
        const photoIds = [];
        const file = photo.files && photo.files[0];
        if (file) {
          submit.textContent = '正在上传照片…';
          const p = await preparePhoto(file);
          const media = await api('POST', '/media', { body: p.bytes, type: p.type, timeout: 120000 });
          photoIds.push(media.id);
        }
        submit.textContent = '正在提交…';
        const payload = resolve ? { resolution_note: note.value.trim(), photo_ids: photoIds } : { note: note.value.trim(), photo_ids: photoIds };
        await api('POST', `/work-orders/${encodeURIComponent(o.id)}/${step}`, { json: payload });
        toast(resolve ? '已办结' : '进展已提交');
        await reload();
      } catch (e) {
        error.textContent = stepError(e);
        submit.disabled = false;
        submit.textContent = resolve ? '确认办结' : '提交进展';
      }
    });
    slot.appendChild(form);
    note.focus();
  }

  async function reload() {
    await load(false);
    render();
  }

  reload().catch((e) => {
    if (!alive) return;
    body.textContent = '';
    body.appendChild(h('p', { class: 'notice' }, errorText(e, '工单')));
  });
  return () => { alive = false; };
}

function stepError(e) {
  if (e && e.offline) return '网络不通，请联网后再试';
  if (e instanceof ApiError && e.status === 409) return '工单状态已变化，请刷新后再试';
  if (e instanceof ApiError && e.status === 403) return '这件工单不由你办理';
  if (e && e.message && !(e instanceof ApiError) && !e.signedOut) return e.message;
  return errorText(e, '工单');
}
