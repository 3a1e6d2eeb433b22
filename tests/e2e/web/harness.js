// The customers' pages in Debian's Chromium, driven through chromedriver by WebdriverIO
// (scripts/web-test.sh starts the server, the SMTP capture and the driver). Helpers: a browser
// in a language, a screenshot plus an axe-core check of each page, and the mails the server sent.
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { remote } from "webdriverio";
import { AxeBuilder } from "@axe-core/webdriverio";

const here = dirname(fileURLToPath(import.meta.url));
export const base = process.env.KAGIYA_WEB_BASE;
const driverPort = Number(process.env.KAGIYA_CHROMEDRIVER_PORT);
const sender = process.env.KAGIYA_WEB_SENDER;
export const artifacts = process.env.KAGIYA_WEB_ARTIFACTS;
if (!base || !driverPort || !sender || !artifacts) {
  throw new Error("run through scripts/web-test.sh (it starts the server, the mail capture and chromedriver)");
}

/** A new Chromium (its own profile) that asks for `lang` ("ja" or "en"). */
export async function open(lang) {
  return remote({
    hostname: "127.0.0.1",
    port: driverPort,
    logLevel: "warn",
    capabilities: {
      browserName: "chrome",
      "goog:chromeOptions": {
        binary: "/usr/bin/chromium",
        args: [
          "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
          "--no-first-run", "--disable-background-networking", "--disable-component-update",
          "--disable-sync", "--window-size=1280,1000", `--lang=${lang === "ja" ? "ja-JP" : "en-GB"}`,
          `--user-data-dir=${mkdtempSync(join(tmpdir(), "kagiya-web-"))}`,
        ],
        prefs: { "intl.accept_languages": lang === "ja" ? "ja,en" : "en-GB,en" },
      },
    },
  });
}

/** Every serious or critical accessibility problem found so far, by page. */
export const violations = [];

/**
 * A full-page screenshot of what `b` shows, as `<name>-<lang>.png`, and an axe-core check
 * (WCAG 2.1 A and AA); its report goes next to the screenshot.
 */
export async function capture(b, name) {
  const lang = await b.execute(() => document.documentElement.lang);
  const file = `${name}-${lang}`;
  await b.saveScreenshot(join(artifacts, `${file}.png`));
  const results = await new AxeBuilder({ client: b })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
    .analyze();
  writeFileSync(join(artifacts, `${file}.axe.json`), JSON.stringify(results.violations, null, 2));
  for (const v of results.violations) {
    if (v.impact === "serious" || v.impact === "critical") {
      violations.push(`${file}: ${v.id} (${v.impact}) ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
    }
  }
  return file;
}

/** The mails the server sent to `to` so far: {to, subject, text}, oldest first. */
export function mailsTo(to) {
  const out = execFileSync("python3", [join(here, "mails.py"), process.env.KAGIYA_TEST_SMTP_MAILDIR, sender]);
  return JSON.parse(out.toString()).filter((m) => m.to.some((t) => t.toLowerCase() === to.toLowerCase()));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Waits (at most 20 s) until `to` has received `n` mails that `pick` accepts; the n-th. */
export async function mail(to, n = 1, pick = () => true) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const got = mailsTo(to).filter(pick);
    if (got.length >= n) return got[n - 1];
    if (Date.now() > deadline) throw new Error(`no mail #${n} to ${to} (have ${got.length})`);
    await sleep(150);
  }
}

/** The one-time password in a mail's text. */
export function codeIn(m) {
  const found = m.text.match(/(?<![0-9])([0-9]{6})(?![0-9])/);
  if (!found) throw new Error(`no code in: ${m.text}`);
  return found[1];
}

/** The link (with its one-time token) in a mail's text. */
export function linkIn(m) {
  const found = m.text.match(/https?:\/\/\S+\?token=[A-Za-z0-9_\-]+/);
  if (!found) throw new Error(`no link in: ${m.text}`);
  return found[0];
}

/** The path (and query) the browser is at. */
export async function at(b) {
  const u = new URL(await b.getUrl());
  return u.pathname + u.search;
}

/** Runs `act` (a click that sends a form or follows a link) and waits for the next page. */
export async function leads(b, act) {
  await b.execute(() => { window.__kagiyaOld = true; });
  await act();
  await b.waitUntil(
    () => b.execute(() => window.__kagiyaOld === undefined && document.readyState === "complete"),
    { timeout: 20_000, timeoutMsg: "the next page did not come" },
  );
}

/** Fills the fields `{id: value}` and presses the submit button of the form `within`. */
export async function submit(b, fields, within = "main form") {
  for (const [id, value] of Object.entries(fields)) {
    const el = await b.$(`#${id}`);
    await el.setValue(value);
  }
  await leads(b, async () => (await b.$(`${within} button[type=submit]`)).click());
}

/** Opens `path` of the site and waits for it. */
export async function go(b, path) {
  await b.url(`${base}${path}`);
}

/** Signs in through the sign-in page; returns the path it leads to. */
export async function signIn(b, id, password) {
  await b.url(`${base}/sign-in`);
  await submit(b, { login_id: id, password });
  return at(b);
}

/** Signs out with the header's button. */
export async function signOut(b) {
  await leads(b, async () => (await b.$("header form[action='/sign-out'] button")).click());
}
