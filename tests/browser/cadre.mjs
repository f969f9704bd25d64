// The cadre's phone app (/app/) in Debian's Chromium on a 360×640 phone: sign in, go offline,
// start the app again from the service worker, record three check-ins with photos into the
// outbox, come back online and watch them upload, then 本月进度, 我的得分, 我的工单 and 退出.
//
// env: MINQING_BASE (http://127.0.0.1:PORT), MINQING_PHONE, MINQING_PASSWORD, MINQING_LAT,
// MINQING_LON (a point inside one of the cadre's villages), MINQING_PHOTOS (three JPEG paths,
// comma-separated), MINQING_SHOTS (a directory for screenshots), CHROMIUM (optional).
// Prints one line of JSON: {"ids":[…], "shown":[{"id", "status_text", "flags_text":[…]}]}.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import { assertChineseOnly } from './support.mjs';

function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

async function poll(what, check, { timeout = 30000, every = 250 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

async function main() {
  const base = env('MINQING_BASE').replace(/\/$/, '');
  const phone = env('MINQING_PHONE');
  const password = env('MINQING_PASSWORD');
  const lat = Number(env('MINQING_LAT'));
  const lon = Number(env('MINQING_LON'));
  const photos = env('MINQING_PHOTOS').split(',').map((p) => p.trim()).filter(Boolean);
  const shots = env('MINQING_SHOTS');
  if (photos.length < 3) throw new Error('MINQING_PHOTOS needs three JPEG files');
  if (!isFinite(lat) || !isFinite(lon)) throw new Error('MINQING_LAT / MINQING_LON are not numbers');
  fs.mkdirSync(shots, { recursive: true });

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const context = await browser.newContext({
      viewport: { width: 360, height: 640 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
      geolocation: { latitude: lat, longitude: lon, accuracy: 12 },
      permissions: ['geolocation'],
    });
    await context.grantPermissions(['geolocation'], { origin: base });
    const page = await context.newPage();

    // Script errors fail the run; failed network loads (offline, a missing optional route) do not.
    const problems = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/Failed to load resource|net::ERR_/.test(m.text())) problems.push(`console: ${m.text()}`);
    });
    // Every screen is checked as it is photographed: Chinese words only, no UUID, no raw UTC time.
    const shot = async (name, fullPage = false) => {
      await page.screenshot({ path: path.join(shots, `cadre-${name}.png`), fullPage });
      await assertChineseOnly(page, []);
    };
    const home = () => page.getByRole('button', { name: '夜访', exact: true });

    // 登录
    await page.goto(`${base}/app/`);
    await page.getByLabel('手机号').fill(phone);
    await page.getByLabel('密码').fill(password);
    await page.getByRole('button', { name: '登录' }).click();
    await home().waitFor({ timeout: 20000 });

    // The service worker controls the page (reload once if the first load was not controlled).
    const controlled = () => page.evaluate(async () => {
      if (!('serviceWorker' in navigator)) return false;
      await navigator.serviceWorker.ready;
      return !!navigator.serviceWorker.controller;
    });
    if (!(await poll('the service worker', controlled, { timeout: 15000 }).catch(() => false))) {
      await page.reload();
      await home().waitFor();
      await poll('the service worker to control the page', controlled, { timeout: 15000 });
    }
    await page.getByText(/待上传 \d+ 条/).waitFor();
    await shot('01-home');

    // Offline: the app starts again from the service worker.
    await context.setOffline(true);
    const reloaded = await page.reload();
    if (!reloaded || !reloaded.fromServiceWorker()) throw new Error('the offline reload did not come from the service worker');
    await home().waitFor();
    const before = Number((await page.getByText(/待上传 \d+ 条/).textContent()).match(/待上传 (\d+) 条/)[1]);
    if (before !== 0) throw new Error(`the outbox of a new phone holds ${before} records`);
    await shot('02-offline');

    // Three records, each with its photo, into the outbox.
    const records = [
      { kind: '夜访', household: '溪口村 3 组 王大伯家', note: '了解秋收和医保缴费情况' },
      { kind: '夜帮', household: '', note: '帮助修理村道路灯' },
      { kind: '住夜开始', household: null, note: '住村委会值班室' },
    ];
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      await page.getByRole('button', { name: r.kind, exact: true }).click();
      await page.getByRole('heading', { name: r.kind }).waitFor();
      await poll('a position', async () => /精度 \d+ 米/.test(await page.locator('#position').textContent()), { timeout: 20000 });
      if (r.household !== null && r.household) await page.getByLabel('走访户').fill(r.household);
      if (r.household === null && (await page.getByLabel('走访户').count())) throw new Error(`${r.kind} shows 走访户`);
      await page.getByLabel('备注').fill(r.note);
      const village = await page.getByLabel('村').evaluate((s) => s.options[s.selectedIndex] && s.options[s.selectedIndex].text);
      if (!village) throw new Error('no village chosen');
      await page.getByLabel('照片').setInputFiles(photos[i]);
      await page.getByText(/照片已压缩|照片已选好/).waitFor({ timeout: 20000 });
      if (i === 0) await shot('03-record-form');
      await page.getByRole('button', { name: '保存' }).click();
      await home().waitFor();
      await page.getByText(`待上传 ${before + i + 1} 条`).waitFor();
    }
    await page.getByText(`待上传 ${before + 3} 条`).waitFor();
    await page.locator('#toast').waitFor({ state: 'hidden' });
    await shot('04-outbox');

    // The list is newest first; the ids in the order the records were made.
    const ids = (await page.locator('li.rec.pending').evaluateAll((els) => els.map((e) => e.dataset.id))).reverse();
    if (ids.length !== 3 || new Set(ids).size !== 3) throw new Error(`expected three pending records, saw ${ids.length}`);

    // Online again: the outbox sends by itself. The answer to its first batch is lost on the
    // way back (the server has stored the records): the app must resend the same ids and
    // bodies and get the same receipts, so each record counts once.
    let batches = 0;
    await page.route('**/api/v1/checkins/batch', async (route) => {
      batches += 1;
      if (batches === 1) {
        await route.fetch();
        await route.abort('connectionreset');
      } else {
        await route.continue();
      }
    });
    await context.setOffline(false);
    await poll('the first upload attempt', () => batches >= 1, { timeout: 60000 });
    // The app retries on its own every 30 s; 立即上传 does it now.
    await poll('立即上传', async () => {
      const button = page.getByRole('button', { name: '立即上传' });
      if (batches >= 2) return true;
      if (await button.isVisible()) await button.click();
      return batches >= 2;
    }, { timeout: 60000, every: 500 });
    await poll('the three records to upload', async () => {
      const states = await page.locator('li.rec').evaluateAll((els, want) => els.filter((e) => want.includes(e.dataset.id)).map((e) => e.className), ids);
      const failed = states.filter((c) => c.includes('failed'));
      if (failed.length) throw new Error('a record was refused: ' + (await page.locator('li.rec.failed .rec-status').allTextContents()).join('; '));
      return states.length === 3 && states.every((c) => c.includes('sent'));
    }, { timeout: 90000, every: 500 });
    await page.getByText('待上传 0 条').waitFor();
    await shot('05-uploaded');

    const shown = [];
    for (const id of ids) {
      const item = page.locator(`li.rec[data-id="${id}"]`);
      shown.push({
        id,
        status_text: (await item.locator('.rec-status').textContent()).trim(),
        flags_text: (await item.locator('.rec-flags li').allTextContents()).map((t) => t.trim()),
      });
    }

    // On the server: each record exactly once, under the phone's id, with its photo.
    const server = await page.evaluate(async (want) => {
      const s = JSON.parse(localStorage.getItem('mq.session'));
      const auth = { Authorization: `Bearer ${s.access_token}` };
      const res = await fetch(`/api/v1/checkins?user_id=${s.user.id}&limit=100`, { headers: auth });
      const list = (await res.json()).items || [];
      const out = [];
      for (const id of want) {
        const rows = list.filter((c) => c.id === id);
        const photo = rows[0] && rows[0].photo_ids && rows[0].photo_ids[0];
        let exif = null;
        if (photo) exif = (await (await fetch(`/api/v1/media/${photo}/meta`, { headers: auth })).json()).exif || null;
        out.push({ id, count: rows.length, photo: !!photo, exif });
      }
      return out;
    }, ids);
    for (const row of server) {
      if (row.count !== 1) throw new Error(`check-in ${row.id} is on the server ${row.count} times`);
      if (!row.photo) throw new Error(`check-in ${row.id} has no photo on the server`);
      if (!row.exif || !row.exif.taken_at) console.error(`note: the photo of ${row.id} carries no EXIF time (did the original have one?)`);
    }
    if (batches < 2) throw new Error('the lost answer was never retried');
    // The resend was answered as a retry of the same records (200), not as new ones (201).
    const answered = await page.evaluate((want) => new Promise((resolve, reject) => {
      const open = indexedDB.open('minqing');
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const req = open.result.transaction('outbox').objectStore('outbox').getAll();
        req.onsuccess = () => resolve(req.result.filter((r) => want.includes(r.id)).map((r) => r.http_status));
        req.onerror = () => reject(req.error);
      };
    }), ids);
    if (answered.length !== 3 || answered.some((status) => status !== 200)) {
      throw new Error(`the resent records were not answered as retries: ${JSON.stringify(answered)}`);
    }

    // 本月进度, 我的得分, 我的工单
    await page.getByRole('link', { name: '本月进度' }).click();
    await page.getByRole('heading', { name: '本月进度' }).waitFor();
    await page.locator('.bars, .notice').first().waitFor({ timeout: 20000 });
    await shot('06-progress');

    await page.getByRole('link', { name: '我的得分' }).click();
    await page.getByRole('heading', { name: '我的得分' }).waitFor();
    await page.locator('.score-total, .notice').first().waitFor({ timeout: 20000 });
    await shot('07-score');

    await page.getByRole('link', { name: '我的工单' }).click();
    await page.getByRole('heading', { name: '我的工单' }).waitFor();
    await page.locator('.orders, .notice').first().waitFor({ timeout: 20000 });
    await shot('08-orders');

    // 退出
    await page.getByRole('link', { name: '首页' }).click();
    await page.getByRole('button', { name: '退出' }).click();
    await page.getByRole('button', { name: '登录' }).waitFor();
    const kept = await page.evaluate(() => localStorage.getItem('mq.session'));
    if (kept) throw new Error('the tokens were not removed on 退出');
    await shot('09-signed-out');

    if (problems.length) throw new Error(problems.join('\n'));
    process.stdout.write(JSON.stringify({ ids, shown }) + '\n');
  } finally {
    await browser.close();
  }
}

main().then(() => process.exit(0), (e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
