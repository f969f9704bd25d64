// Chinese words for every machine word the app shows: the server's table
// (GET /api/v1/labels?lang=zh-CN), kept for offline starts, over a built-in fallback.

import { formatDistance, formatHours, num } from './util.js';

const KEY = 'mq.labels';

const FALLBACK = {
  checkin_kind: {
    night_visit: '夜访', night_study: '夜学', night_discussion: '夜议', night_help: '夜帮',
    stay_start: '住夜开始', stay_end: '住夜结束', work_log: '工作日志',
  },
  checkin_status: { accepted: '有效', flagged: '待审核', approved: '审核通过', rejected: '未通过' },
  flag: {
    outside_geofence: '超出村界', not_assigned_village: '非包联村', outside_night_window: '非夜间时段',
    low_accuracy: '定位精度低', implausible_speed: '移动过快', mock_location: '模拟定位',
    unusual_device: '非常用设备', late_sync: '补传过晚', future_time: '时间超前',
    photo_reused: '照片重复', photo_exif_far: '照片位置不符', photo_exif_time: '照片时间不符',
    photo_missing: '缺少照片', repeated_position: '定位重复', short_stay: '住夜时长不足',
    session_incomplete: '会议未按时补纪要',
  },
  session_kind: { night_study: '夜学', night_discussion: '夜议' },
  session_status: { awaiting_minutes: '待补纪要', complete: '已完成', incomplete: '纪要逾期' },
  work_order_status: {
    submitted: '待派单', assigned: '已派单', in_progress: '办理中', resolved: '已办结',
    closed: '已关闭', rejected: '不予受理', reopened: '重新办理',
  },
  grade: { excellent: '优秀', good: '良好', pass: '合格', fail: '不合格' },
  metric: {
    night_visit: '夜访', night_study: '夜学', night_discussion: '夜议', night_help: '夜帮',
    four_nights: '四夜合计', stays: '住夜', work_log_days: '工作日志天数',
  },
  veto_area: { family_planning: '计划生育', public_security: '社会治安', work_safety: '安全生产', integrity: '党风廉政' },
  veto_status: { pending: '待审批', approved: '已生效', withdrawal_requested: '撤销待审批', withdrawn: '已撤销' },
  score_flag: {
    veto: '一票否决', no_ratings: '暂无民主测评', statement: '后进表态', position_adjustment: '建议调整岗位',
    suggested_excellent: '建议评为优秀', major_contribution: '推荐重大贡献奖',
  },
  field: {
    id: '记录编号', kind: '类型', village_id: '村', lat: '纬度', lon: '经度', crs: '坐标系',
    accuracy_m: '定位精度', recorded_at: '记录时间', device_id: '设备', mock_location: '虚拟定位',
    note: '备注', household: '走访户', photo_ids: '照片', phone: '手机号', password: '密码',
    resolution_note: '办结说明', file: '照片',
    session_id: '会议', topic: '主题', place_id: '地点', starts_at: '开始时间', minutes: '会议纪要',
    villagers_present: '参会群众', names: '姓名', count: '人数', date: '日期', content: '内容', month: '月份',
  },
  problem: {
    400: '内容无法识别', 401: '登录已失效', 403: '没有权限', 404: '记录不存在', 409: '与已提交的记录冲突',
    413: '内容过大', 415: '格式不支持', 422: '填写的内容有误', 429: '操作过于频繁', 500: '服务器出错',
  },
};

let table = load();

function load() {
  const merged = {};
  for (const family of Object.keys(FALLBACK)) merged[family] = Object.assign({}, FALLBACK[family]);
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) || 'null');
    if (saved && saved.labels) merge(merged, saved.labels);
  } catch (e) { /* a broken copy is ignored */ }
  return merged;
}

function merge(into, labels) {
  for (const family of Object.keys(labels)) {
    const words = labels[family];
    if (!words || typeof words !== 'object') continue;
    into[family] = Object.assign(into[family] || {}, words);
  }
}

// Fetches the server's table (when online) and keeps it. Never throws.
export async function refreshLabels() {
  if (navigator.onLine === false) return false;
  try {
    const res = await fetch('/api/v1/labels?lang=zh-CN', { headers: { Accept: 'application/json' } });
    if (!res.ok) return false;
    const body = await res.json();
    if (!body || typeof body.labels !== 'object') return false;
    localStorage.setItem(KEY, JSON.stringify({ labels: body.labels, at: Date.now() }));
    table = load();
    return true;
  } catch (e) {
    return false;
  }
}

// The word for `key` in `family`, or `fallback` (never the machine word itself).
export function label(family, key, fallback = '') {
  const words = table[family];
  const word = words && words[key];
  return typeof word === 'string' && word ? word : fallback;
}

export function kindLabel(kind) {
  return label('checkin_kind', kind, '记录');
}

// "超出村界（距村界 4.7 公里）": the flag's word and, for the common flags, what was measured.
// `villageName` turns a village id into its name.
export function flagText(flag, villageName) {
  const code = flag && flag.code;
  const value = flag && flag.value;
  const word = label('flag', code, '需要审核');
  const n = Number(value);
  let detail = '';
  switch (code) {
    case 'outside_geofence':
      if (isFinite(n)) detail = `距村界 ${formatDistance(n)}`;
      break;
    case 'not_assigned_village': {
      const name = villageName && villageName(value);
      if (name) detail = name;
      break;
    }
    case 'outside_night_window':
      if (typeof value === 'string' && /^\d{1,2}:\d{2}$/.test(value)) detail = `打卡时间 ${value}`;
      break;
    case 'low_accuracy':
      if (isFinite(n)) detail = `精度 ${formatDistance(n)}`;
      break;
    case 'implausible_speed':
      if (isFinite(n)) detail = `时速约 ${num(n, 0)} 公里`;
      break;
    case 'late_sync':
      if (isFinite(n)) detail = `晚了 ${formatHours(n)}`;
      break;
    case 'future_time':
      if (isFinite(n)) detail = `超前 ${formatHours(n)}`;
      break;
    case 'photo_exif_far':
      if (isFinite(n)) detail = `拍摄地相距 ${formatDistance(n)}`;
      break;
    case 'photo_exif_time':
      if (isFinite(n)) detail = `拍摄时间相差 ${formatHours(n)}`;
      break;
    case 'short_stay':
      if (isFinite(n)) detail = `仅 ${formatHours(n)}`;
      break;
    default:
      break;
  }
  return detail ? `${word}（${detail}）` : word;
}

// A refusal in words: the problem's title for its status, and the fields it names.
export function problemText(problem, status) {
  const code = (problem && problem.status) || status;
  let text = label('problem', String(code), '');
  if (!text) text = code >= 500 ? '服务器出错' : '提交被拒绝';
  const fields = [];
  const errors = (problem && Array.isArray(problem.errors)) ? problem.errors : [];
  for (const e of errors) {
    const field = String((e && e.field) || '');
    // "photo_ids[0]" and "indicators[2].target" read by their first part.
    const word = label('field', field, '') || label('field', field.split(/[.[]/)[0], '');
    if (word && fields.indexOf(word) < 0) fields.push(word);
  }
  return fields.length ? `${text}：${fields.join('、')}` : text;
}
