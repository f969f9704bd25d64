// Pieces every screen uses: the signed-in user (kept for offline starts), the top bar, the
// tabs, a short message.

import { session, me } from './api.js';
import { h } from './util.js';

export const ME_KEY = 'mq.me';

export function cachedMe() {
  const s = session();
  if (!s) return null;
  try {
    const kept = JSON.parse(localStorage.getItem(ME_KEY) || 'null');
    if (kept && kept.id === s.user.id) return kept;
  } catch (e) { /* ignored */ }
  return Object.assign({ villages: [] }, s.user);
}

export async function loadMe() {
  try {
    const fresh = await me();
    if (fresh && fresh.id) localStorage.setItem(ME_KEY, JSON.stringify(fresh));
    return fresh;
  } catch (e) {
    return null;
  }
}

export function villageName(id) {
  const m = cachedMe();
  const v = m && (m.villages || []).find((x) => x.id === id);
  return v ? v.name : '';
}

// Goes to a screen (its hash); the same hash again shows the screen afresh.
export function navigate(hash) {
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = hash;
}

let toastTimer = null;
let toastAt = 0;
export function toast(text) {
  const el = document.getElementById('toast');
  if (!el) return;
  el.textContent = text;
  el.hidden = false;
  toastAt = Date.now();
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 2500);
}

// On leaving a screen: its messages go with it (one shown just now, for the next screen, stays).
export function hideToast() {
  const el = document.getElementById('toast');
  if (el && Date.now() - toastAt > 400) el.hidden = true;
}

// `back`: true for a link home, or the hash of the screen to go back to.
export function topbar(title, { back = false, right = null } = {}) {
  const to = typeof back === 'string' ? back : '#/';
  return h('header', { class: 'topbar' },
    back ? h('a', { class: 'back', href: to, 'aria-label': to === '#/' ? '返回首页' : '返回上一页' }, '‹ 返回') : h('span', { class: 'brand' }, '民情'),
    h('h1', null, title),
    right || h('span', { class: 'spacer' }));
}

export function tabs(current) {
  const tab = (hash, text) => h('a', { href: hash, class: current === hash ? 'tab on' : 'tab', 'aria-current': current === hash ? 'page' : null }, text);
  return h('nav', { class: 'tabs', 'aria-label': '栏目' },
    tab('#/', '首页'), tab('#/progress', '本月进度'), tab('#/score', '我的得分'), tab('#/orders', '我的工单'));
}
