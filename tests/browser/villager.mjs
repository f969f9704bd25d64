// A villager on a 360×640 phone, in Debian's Chromium: reports an issue from the village
// page (photo, mocked position), then — once staff have answered — tracks it with the
// 工单编号 and 查询码 and rates the answer. Driven by tests/tests/browser.rs.
//
// MINQING_MODE=report: MINQING_BASE, MINQING_VILLAGE_CODE, MINQING_LAT, MINQING_LON, MINQING_PHOTO
// MINQING_MODE=rate:   MINQING_BASE, MINQING_CODE, MINQING_QUERY_CODE
// Prints one JSON line with what the page showed; exits 1 on any failure.
import { chromium } from "playwright-core";
import { launch, phoneContext, shot, assertChineseOnly, env } from "./support.mjs";

const base = env("MINQING_BASE");
const mode = env("MINQING_MODE");

async function report(browser) {
  const lat = Number(env("MINQING_LAT"));
  const lon = Number(env("MINQING_LON"));
  const context = await phoneContext(browser, { geolocation: { latitude: lat, longitude: lon, accuracy: 20 } });
  const page = await context.newPage();

  // First load on a slow 3G link: bytes over the wire and time until the form can be used.
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false, latency: 400, downloadThroughput: (400 * 1024) / 8, uploadThroughput: (400 * 1024) / 8,
  });
  let bytes = 0;
  cdp.on("Network.loadingFinished", (e) => { bytes += e.encodedDataLength; });
  const started = Date.now();
  await page.goto(`${base}/v/${env("MINQING_VILLAGE_CODE")}`, { waitUntil: "load" });
  const loadMs = Date.now() - started;
  const firstLoadBytes = bytes;
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await shot(page, "villager-01-village");
  await assertChineseOnly(page, []);

  await page.getByLabel("问题类别").selectOption({ index: 1 });
  await page.getByLabel("标题").fill("村口路灯不亮");
  await page.getByLabel("详细描述").fill("村口第二根路灯已经一周不亮了，晚上老人走路看不清。");
  await page.getByLabel("照片").setInputFiles(env("MINQING_PHOTO"));
  await page.getByRole("button", { name: "获取当前位置" }).click();
  await page.getByText("已获取位置").waitFor();
  await page.getByLabel("您的姓名").fill("王秀英");
  await page.getByLabel("手机号码").fill("13712345678");
  await shot(page, "villager-02-form", { fullPage: true });
  await page.getByRole("button", { name: "提交" }).click();
  await page.getByText("工单编号").waitFor();
  const code = (await page.locator("#order-code").textContent()).trim();
  const queryCode = (await page.locator("#query-code").textContent()).trim();
  await shot(page, "villager-03-receipt");
  await assertChineseOnly(page, [code]);

  // Tracking right away: submitted and waiting for a unit.
  await page.goto(`${base}/t`);
  await page.getByLabel("工单编号").fill(code);
  await page.getByLabel("查询码").fill(queryCode);
  await page.getByRole("button", { name: "查询" }).click();
  const status = (await page.locator("#order-status").textContent()).trim();
  await shot(page, "villager-04-tracking");
  await assertChineseOnly(page, [code]);
  await context.close();
  return { code, query_code: queryCode, status, first_load_bytes: firstLoadBytes, slow_3g_load_ms: loadMs };
}

async function rate(browser) {
  const context = await phoneContext(browser, {});
  const page = await context.newPage();
  const code = env("MINQING_CODE");
  await page.goto(`${base}/t`);
  await page.getByLabel("工单编号").fill(code);
  await page.getByLabel("查询码").fill(env("MINQING_QUERY_CODE"));
  await page.getByRole("button", { name: "查询" }).click();
  const statusBefore = (await page.locator("#order-status").textContent()).trim();
  const timeline = (await page.locator("#timeline").textContent()).replace(/\s+/g, " ");
  // Photos of the answer are shown (loaded, not broken links).
  const images = page.locator("#timeline img");
  // Lazy images load once in view, and loading takes a moment: wait (with a deadline) for
  // each to finish before counting those that show.
  for (const image of await images.all()) await image.scrollIntoViewIfNeeded();
  await page
    .waitForFunction(() => [...document.querySelectorAll("#timeline img")].every((i) => i.complete), null, { timeout: 10000 })
    .catch(() => {});
  const photosShown = await images.evaluateAll((list) => list.filter((i) => i.complete && i.naturalWidth > 0).length);
  await shot(page, "villager-05-resolved", { fullPage: true });
  await assertChineseOnly(page, [code]);
  await page.getByLabel("满意", { exact: true }).check();
  await page.getByLabel("留言").fill("修得很快，谢谢！");
  await page.getByRole("button", { name: "提交评价" }).click();
  await page.getByText("感谢您的评价").waitFor();
  const statusAfter = (await page.locator("#order-status").textContent()).trim();
  await shot(page, "villager-06-rated", { fullPage: true });
  await context.close();
  return { status_before: statusBefore, status_after: statusAfter, timeline, photos_shown: photosShown };
}

const browser = await launch(chromium);
try {
  const result = mode === "report" ? await report(browser) : await rate(browser);
  console.log(JSON.stringify(result));
} catch (e) {
  console.error(e);
  process.exitCode = 1;
} finally {
  await browser.close();
}
