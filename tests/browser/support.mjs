// Shared by the browser scripts: Debian's Chromium as the machine allows it, a phone-sized
// context, screenshots, and the check that a page shows no English machine words.
import path from "node:path";

export function env(name) {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`${name} is not set`);
  return value;
}

export function launch(chromium) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

export async function phoneContext(browser, { geolocation }) {
  const context = await browser.newContext({
    viewport: { width: 360, height: 640 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: "zh-CN",
    timezoneId: "Asia/Shanghai",
    ...(geolocation ? { geolocation, permissions: ["geolocation"] } : {}),
  });
  context.setDefaultTimeout(20000);
  return context;
}

export async function shot(page, name, options = {}) {
  const dir = process.env.MINQING_SHOTS;
  if (dir) await page.screenshot({ path: path.join(dir, `${name}.png`), ...options });
}

// Everything a person reads is Chinese: the visible text, with the given codes (order codes
// like MQ-20261202-0001) taken out, holds no Latin word and no UUID.
export async function assertChineseOnly(page, allowed) {
  let text = await page.evaluate(() => document.body.innerText);
  for (const a of allowed) text = text.split(a).join("");
  // Order codes (工单编号) are meant to be read and typed; a few product and key names are
  // what Chinese users call these things too (DESIGN §5 names the buttons 导出Excel, 另存为PDF).
  text = text.replace(/MQ-\d{8}-\d{4}/g, "").replace(/Excel|PDF|Ctrl/g, "");
  const uuid = text.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i);
  if (uuid) throw new Error(`the page shows a UUID: ${uuid[0]}`);
  const word = text.match(/[A-Za-z]{2,}[A-Za-z_]*/);
  if (word) throw new Error(`the page shows a Latin word "${word[0]}" in: ${text.slice(0, 400)}`);
  const utc = text.match(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
  if (utc) throw new Error(`the page shows a raw timestamp: ${utc[0]}`);
}
