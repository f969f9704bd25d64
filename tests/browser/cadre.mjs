// The cadre's phone app (/app/) in Debian's Chromium on a 360×640 phone: sign in, go offline,
// start the app again from the service worker, record three check-ins with photos into the
// outbox, come back online and watch them upload, then 本月进度, 我的得分, 我的工单; write
// today's 工作日志 (too short first, then with a photo, then edited) and find it in the month;
// open a 夜学 at the village the phone is in, check in to it through the outbox, add its
// minutes (纪要) with a photo; then 退出.
//
// env: MINQING_BASE (http://127.0.0.1:PORT), MINQING_PHONE, MINQING_PASSWORD, MINQING_LAT,
// MINQING_LON (a point inside one of the cadre's villages), MINQING_PHOTOS (three JPEG paths,
// comma-separated; three more, when given, for the log, the session check-in and the minutes), MINQING_SHOTS (a directory for screenshots), CHROMIUM (optional).
// Prints one line of JSON: {"ids":[…], "shown":[{"id", "status_text", "flags_text":[…]}],
// "work_log":{"date", "content"}, "session":{"id", "topic", "minutes", "checkin_id"}}.

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
  // Photos for the log, the session check-in and the minutes (a photo used twice is flagged).
  const spare = (i) => photos[3 + i] || photos[i];
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
    // And nothing is wider than the phone.
    const shot = async (name, fullPage = false) => {
      await page.screenshot({ path: path.join(shots, `cadre-${name}.png`), fullPage });
      await assertChineseOnly(page, []);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      if (width > 360) throw new Error(`${name}: the page is ${width} px wide on a 360 px phone`);
    };
    const toastSays = async (text) => {
      await page.locator('#toast', { hasText: text }).waitFor();
      await page.locator('#toast').waitFor({ state: 'hidden' });
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
    // 待测评: the town's colleagues to rate in the period shown, each 已评 or 未评, and the count.
    const tasks = page.locator('.rating-tasks');
    await tasks.getByText(/^已评 \d+\/\d+$/).waitFor({ timeout: 20000 });
    if ((await tasks.locator('li .badge').count()) < 1) throw new Error('待测评 lists no colleague of the town');
    await shot('07-score');

    await page.getByRole('link', { name: '我的工单' }).click();
    await page.getByRole('heading', { name: '我的工单' }).waitFor();
    await page.locator('.orders, .notice').first().waitFor({ timeout: 20000 });
    await shot('08-orders');

    // 工作日志: today's, at least 20 characters (counted before sending), with a photo.
    const today = new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);
    await page.getByRole('link', { name: '首页' }).click();
    await page.getByRole('button', { name: '工作日志', exact: true }).click();
    await page.getByRole('heading', { name: '工作日志', exact: true }).waitFor();
    await page.locator('.month .summary').waitFor({ timeout: 20000 });
    const logBox = page.getByLabel('工作内容');
    await logBox.fill('上午到溪口村走访困难户');
    await page.getByText(/已写 \d+ 字，还差 \d+ 字/).waitFor();
    await page.getByRole('button', { name: '提交日志' }).click();
    await page.getByText(/内容至少 20 字/).waitFor();
    await shot('10-worklog-too-short');
    const logText = '上午到溪口村走访三户困难群众，了解医保缴费和冬季取暖情况；下午参加镇安全生产会议，晚上在村委会组织夜学。';
    await logBox.fill(logText);
    await page.getByText(/已写 \d+ 字（至少 20 字，不计空格）✓/).waitFor();
    await page.getByLabel('照片', { exact: true }).setInputFiles(spare(0));
    await page.getByRole('button', { name: '提交日志' }).click();
    await toastSays('工作日志已提交');
    await page.getByRole('button', { name: '保存修改' }).waitFor();
    await page.locator('.worklog .thumb img[src^="blob:"]').waitFor({ timeout: 20000 });
    await shot('11-worklog-written');
    // Edited on its day: the earlier version is kept.
    const logEdited = `${logText}补记：晚上整理了走访台账。`;
    await logBox.fill(logEdited);
    await page.getByRole('button', { name: '保存修改' }).click();
    await toastSays('工作日志已修改');
    const todayItem = page.locator(`li.day[data-date="${today}"]`);
    await todayItem.getByText('修改过 1 次', { exact: false }).waitFor();
    for (const word of ['已填写', '可修改', '暂无批阅']) await todayItem.getByText(word, { exact: true }).waitFor();
    if (!(await todayItem.locator('.excerpt').textContent()).includes('补记')) throw new Error('the month shows the old text of the log');
    await page.locator('.month').scrollIntoViewIfNeeded();
    await page.evaluate(() => document.querySelector('.month').scrollIntoView());
    await shot('12-worklog-month');
    const missing = await page.locator('li.day.missing').count();
    const summary = await page.locator('.month .summary').textContent();
    if (!summary.includes(`未填写 ${missing} 天`)) throw new Error(`the month says "${summary}" but lists ${missing} days without a log`);

    // 夜学: tonight's sessions of the town; open one at the village the phone is in.
    await page.getByRole('link', { name: '返回首页' }).click();
    await page.getByRole('button', { name: '夜学', exact: true }).click();
    await page.getByRole('heading', { name: '夜学', exact: true }).waitFor();
    await page.getByRole('heading', { name: /^今晚（\d+月\d+日）的夜学$/ }).waitFor();
    await shot('13-sessions-tonight');
    await page.getByRole('button', { name: '发起夜学' }).click();
    await page.getByRole('heading', { name: '发起夜学' }).waitFor();
    const topic = '学习党的二十届四中全会精神';
    await page.getByLabel('主题').fill(topic);
    const placeId = await page.evaluate(({ lat, lon }) => {
      const me = JSON.parse(localStorage.getItem('mq.me'));
      const holds = (b) => {
        if (!b) return false;
        if (b.center) return Math.hypot((b.center.lat - lat) * 111000, (b.center.lon - lon) * 97000) <= (b.radius_m || 1500);
        const rings = b.type === 'MultiPolygon' ? b.coordinates.map((p) => p[0]) : [b.coordinates[0]];
        return rings.some((r) => {
          const xs = r.map((p) => p[0]);
          const ys = r.map((p) => p[1]);
          return lon >= Math.min(...xs) && lon <= Math.max(...xs) && lat >= Math.min(...ys) && lat <= Math.max(...ys);
        });
      };
      const v = (me.villages || []).find((x) => holds(x.boundary));
      return v ? v.id : null;
    }, { lat, lon });
    if (!placeId) throw new Error('none of the cadre\'s villages holds the mocked position');
    await page.getByLabel('地点').selectOption(placeId);
    if (!(await page.getByLabel('开始时间', { exact: true }).inputValue()).startsWith(today)) throw new Error('the start time is not today by default');
    await shot('14-session-new');
    await page.getByRole('button', { name: '发起夜学' }).click();
    await page.getByRole('heading', { name: topic }).waitFor();
    await page.getByText('还没有人签到').waitFor();
    await page.locator('.session-head .facts', { hasText: '待补纪要' }).waitFor();
    const sessionId = decodeURIComponent(page.url().split('#/session/')[1] || '');
    if (!sessionId) throw new Error(`the new session's page is not open: ${page.url()}`);
    await toastSays('已发起夜学');
    await shot('15-session-open');

    // 签到: position and photo, through the outbox; the page then lists the cadre.
    await page.getByRole('button', { name: '签到', exact: true }).click();
    await page.getByRole('heading', { name: '夜学签到' }).waitFor();
    await poll('a position', async () => /精度 \d+ 米/.test(await page.locator('#position').textContent()), { timeout: 20000 });
    if (!(await page.locator('#meeting').textContent()).includes(topic)) throw new Error('the check-in form does not name the session');
    await page.getByLabel('照片', { exact: true }).setInputFiles(spare(1));
    await page.getByText(/照片已压缩|照片已选好/).waitFor({ timeout: 20000 });
    await page.getByLabel('备注').fill('按时参加，做了学习笔记');
    await shot('16-session-checkin');
    await page.getByRole('button', { name: '签到', exact: true }).click();
    await page.getByRole('heading', { name: topic }).waitFor();
    await page.locator('.attendees li', { hasText: '（我）' }).waitFor({ timeout: 60000 });
    await page.locator('.session-head .mine', { hasText: /已签到 · (有效|待审核)/ }).waitFor();
    await page.locator('#toast').waitFor({ state: 'hidden' });
    await shot('17-session-attended');

    // 纪要 by the organiser, with a photo.
    const minutes = '学习了四中全会精神，结合村里冬季防火和医保缴费工作作了部署，明确了下一步分工。';
    await page.getByLabel('纪要内容').fill(minutes);
    await page.getByLabel('纪要照片').setInputFiles(spare(2));
    await page.getByRole('button', { name: '保存纪要' }).click();
    await toastSays('纪要已保存');
    await page.locator('.session-head .facts', { hasText: '已完成' }).waitFor();
    await page.locator('.minutes .prose', { hasText: '冬季防火' }).waitFor();
    await page.locator('.minutes .thumb img[src^="blob:"]').waitFor({ timeout: 20000 });
    await page.evaluate(() => document.querySelector('.minutes').scrollIntoView());
    await shot('18-session-minutes');

    // Back to tonight's list: the session, attended.
    await page.getByRole('link', { name: '返回上一页' }).click();
    await page.getByRole('heading', { name: /^今晚（\d+月\d+日）的夜学$/ }).waitFor();
    const card = page.locator(`article.session[data-session="${sessionId}"]`);
    await card.getByText(/已签到 · (有效|待审核)/).waitFor();
    await shot('19-sessions-attended');

    // On the server: the log as edited, and the session with its minutes and the attendance.
    const held = await page.evaluate(async ({ id, month }) => {
      const s = JSON.parse(localStorage.getItem('mq.session'));
      const auth = { Authorization: `Bearer ${s.access_token}` };
      const session = await (await fetch(`/api/v1/sessions/${id}`, { headers: auth })).json();
      const logs = await (await fetch(`/api/v1/work-logs?month=${month}`, { headers: auth })).json();
      return { session, logs, me: s.user.id };
    }, { id: sessionId, month: today.slice(0, 7) });
    const day = (held.logs.days || []).find((d) => d.date === today);
    if (!day || !day.log || day.log.content !== logEdited) throw new Error(`the server holds another log for ${today}: ${JSON.stringify(day)}`);
    if (day.log.photo_ids.length !== 1 || day.log.history.length !== 1) throw new Error(`the log lost its photo or its history: ${JSON.stringify(day.log)}`);
    const mineThere = (held.session.attendees || []).filter((a) => a.user_id === held.me);
    if (mineThere.length !== 1) throw new Error(`the session lists the cadre ${mineThere.length} times`);
    if (held.session.minutes !== minutes || held.session.photo_ids.length !== 1 || held.session.status !== 'complete') {
      throw new Error(`the session's minutes did not arrive: ${JSON.stringify(held.session)}`);
    }
    await page.getByRole('link', { name: '返回首页' }).click();

    // 退出
    await page.getByRole('link', { name: '首页' }).click();
    await page.getByRole('button', { name: '退出' }).click();
    await page.getByRole('button', { name: '登录' }).waitFor();
    const kept = await page.evaluate(() => localStorage.getItem('mq.session'));
    if (kept) throw new Error('the tokens were not removed on 退出');
    await shot('09-signed-out');

    if (problems.length) throw new Error(problems.join('\n'));
    process.stdout.write(JSON.stringify({
      ids,
      shown,
      work_log: { date: today, content: logEdited },
      session: { id: sessionId, topic, minutes, checkin_id: mineThere[0].checkin_id },
    }) + '\n');
  } finally {
    await browser.close();
  }
}

main().then(() => process.exit(0), (e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
