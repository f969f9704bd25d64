// A town supervisor at a 1366×768 desk, in Debian's Chromium: signs in, assigns the most
// overdue order from 超期工单, approves the oldest flagged check-in from 待审核打卡, downloads
// the 工单台账 as Excel and opens last month's 督查通报; then a cadre and a stranger try the
// desk. Driven by tests/tests/browser.rs, which checks what the page showed against the API.
//
// env: MINQING_BASE, MINQING_PHONE, MINQING_PASSWORD (the supervisor), MINQING_CADRE_PHONE,
// MINQING_MONTH (YYYY-MM), MINQING_DOWNLOAD (where to save the Excel file), MINQING_SHOTS.
// Prints one JSON line; exits 1 on any failure.
import { chromium } from "playwright-core";
import { launch, shot, assertChineseOnly, env } from "./support.mjs";

const base = env("MINQING_BASE");

async function desk(browser) {
  const context = await browser.newContext({
    viewport: { width: 1366, height: 768 },
    locale: "zh-CN",
    timezoneId: "Asia/Shanghai",
    acceptDownloads: true,
  });
  context.setDefaultTimeout(20000);
  const page = await context.newPage();

  // Not signed in: the desk sends the supervisor to sign in, and back afterwards.
  await page.goto(`${base}/desk/overdue`);
  if (!new URL(page.url()).pathname.startsWith("/login")) throw new Error(`not sent to sign in: ${page.url()}`);
  await page.getByLabel("手机号").fill(env("MINQING_PHONE"));
  await page.getByLabel("密码").fill(env("MINQING_PASSWORD"));
  await page.getByRole("button", { name: "登录" }).click();
  await page.waitForURL(/\/desk\/overdue/);
  await shot(page, "desk-01-overdue");
  await assertChineseOnly(page, []);

  // 派单 the most overdue order: its first row's form.
  const firstOrder = page.locator("table a[href^='/desk/orders/']").first();
  const assignedCode = (await firstOrder.textContent()).trim();
  const form = page.locator("form.assign").first();
  await form.getByLabel("工作日").fill("3");
  await form.getByLabel("承诺").fill("三个工作日内办结并回访");
  await form.getByRole("button", { name: "派单" }).click();
  await page.getByText("已派单").first().waitFor();
  await shot(page, "desk-02-assigned");

  // 通过 the oldest flagged check-in.
  await page.getByRole("link", { name: "待审核打卡" }).click();
  await page.waitForURL(/\/desk\/review/);
  await shot(page, "desk-03-review");
  await assertChineseOnly(page, []);
  const pick = page.getByLabel("选择").first();
  const approvedId = await pick.getAttribute("value");
  await pick.check();
  await page.getByLabel("理由").fill("已电话核实，确在村里");
  await page.getByRole("button", { name: "通过", exact: true }).click();
  await page.getByText("已通过 1 条").waitFor();

  // 工单台账 and its Excel download.
  await page.getByRole("link", { name: "工单台账" }).click();
  await page.waitForURL(/\/desk\/orders/);
  await shot(page, "desk-04-ledger");
  const ledgerCodes = await page.locator("table a[href^='/desk/orders/']").allTextContents();
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "导出Excel" }).click(),
  ]);
  await download.saveAs(env("MINQING_DOWNLOAD"));

  // 督查通报 of last month, printable.
  await page.goto(`${base}/desk/bulletin?month=${env("MINQING_MONTH")}`);
  await shot(page, "desk-05-bulletin", { fullPage: true });
  await assertChineseOnly(page, []);
  const text = async (id) => ((await page.locator(`#${id}`).textContent()) || "").trim();
  const units = [];
  for (let i = 0; (await page.locator(`#unit-${i}-name`).count()) > 0; i++) {
    units.push({
      name: await text(`unit-${i}-name`),
      assigned: await text(`unit-${i}-assigned`),
      resolved: await text(`unit-${i}-resolved`),
      response: await text(`unit-${i}-response`),
      on_time: await text(`unit-${i}-on-time`),
      satisfaction: await text(`unit-${i}-satisfaction`),
    });
  }
  const bulletin = {
    title: await text("bulletin-title"),
    issue: await text("bulletin-issue"),
    units,
    body: (await page.locator("main").innerText()).replace(/\s+/g, " "),
  };
  await page.emulateMedia({ media: "print" });
  await shot(page, "desk-06-bulletin-print", { fullPage: true });
  await context.close();
  return { assigned_code: assignedCode, approved_checkin: approvedId, ledger_codes: ledgerCodes.map((c) => c.trim()), bulletin };
}

// A cadre signed in is refused the desk; a stranger is sent to sign in.
async function others(browser) {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: "zh-CN" });
  context.setDefaultTimeout(20000);
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await page.getByLabel("手机号").fill(env("MINQING_CADRE_PHONE"));
  await page.getByLabel("密码").fill(env("MINQING_PASSWORD"));
  await page.getByRole("button", { name: "登录" }).click();
  await page.waitForURL(/\/app\//);
  const refused = await page.goto(`${base}/desk/`);
  await shot(page, "desk-07-cadre-refused");
  const cadreStatus = refused.status();
  await context.close();
  const stranger = await browser.newContext();
  const anon = await stranger.newPage();
  await anon.goto(`${base}/desk/review`);
  const strangerPath = new URL(anon.url()).pathname;
  await stranger.close();
  return { cadre_status: cadreStatus, stranger_path: strangerPath };
}

const browser = await launch(chromium);
try {
  const result = { ...(await desk(browser)), ...(await others(browser)) };
  console.log(JSON.stringify(result));
} catch (e) {
  console.error(e);
  process.exitCode = 1;
} finally {
  await browser.close();
}
