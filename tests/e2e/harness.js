// Starts tauri-driver once per test file, opens the real Kagiya window on a fresh data directory,
// and gives the specs a few helpers. Screenshots go to tests/artifacts/e2e/.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, existsSync, openSync, closeSync } from "node:fs";
import { tmpdir, homedir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { remote } from "webdriverio";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..");
export const artifacts = join(root, "tests", "artifacts", "e2e");
mkdirSync(artifacts, { recursive: true });

/**
 * The release app that the .deb and .rpm ship, built by `scripts/build.sh --release`: the suite
 * tests what users install (KAGIYA_APP overrides, e.g. with a debug build).
 */
export const application = process.env.KAGIYA_APP ?? join(root, "target", "release", "kagiya-desktop");

/** The headless CLI, built by `cargo test --workspace` (KAGIYA_CLI overrides). */
export const cli = process.env.KAGIYA_CLI ?? join(root, "target", "debug", "kagiya");

const PORT = Number(process.env.TAURI_DRIVER_PORT ?? 4444);

function driverPath() {
  const fromCargo = join(process.env.CARGO_HOME ?? join(homedir(), ".cargo"), "bin", "tauri-driver");
  return existsSync(fromCargo) ? fromCargo : "tauri-driver";
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts tauri-driver and waits until it and WebKitWebDriver answer (tauri#15156). Its output and
 * the app's go to `<name>-driver.log` among the artifacts: nothing the app starts may hold the
 * test runner's pipes open.
 */
export async function startDriver(name) {
  if (!existsSync(application)) {
    throw new Error(`The app is not built at ${application}: run 'scripts/build.sh --release' first.`);
  }
  const log = openSync(join(artifacts, `${name}-driver.log`), "a");
  const proc = spawn(driverPath(), ["--port", String(PORT)], { stdio: ["ignore", log, log] });
  closeSync(log);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`tauri-driver exited with ${proc.exitCode}`);
    try {
      const r = await fetch(`http://127.0.0.1:${PORT}/status`);
      if (r.ok) return proc;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  proc.kill("SIGKILL");
  throw new Error("tauri-driver did not answer within 30 s");
}

export async function stopDriver(proc) {
  if (!proc || proc.exitCode !== null) return;
  proc.kill("SIGTERM");
  await Promise.race([new Promise((r) => proc.once("exit", r)), sleep(3000)]);
  if (proc.exitCode === null) proc.kill("SIGKILL");
}

/** A fresh, empty data directory for one test. */
export function freshDataDir(name) {
  return mkdtempSync(join(tmpdir(), `kagiya-e2e-${name}-`));
}

const dataDirs = new WeakMap();

/** Opens the app window on `dataDir` with extra launch arguments. */
export async function openApp(dataDir, extraArgs = []) {
  const browser = await remote({
    hostname: "127.0.0.1",
    port: PORT,
    logLevel: "warn",
    connectionRetryCount: 1,
    capabilities: {
      "wdio:enforceWebDriverClassic": true,
      "tauri:options": { application, args: ["--data-dir", dataDir, ...extraArgs] },
    },
  });
  await browser.setTimeout({ implicit: 0 });
  // Wait until the UI has asked the console for its status and chosen a screen.
  await browser.waitUntil(
    async () => {
      const s = await browser.$(".app").getAttribute("data-screen");
      return s !== null && s !== "loading";
    },
    { timeout: 20_000, timeoutMsg: "the UI did not load" },
  );
  dataDirs.set(browser, dataDir);
  return browser;
}

/**
 * Ends the WebDriver session and makes sure the app is gone: WebKitWebDriver does not always end a
 * Tauri app on session delete, and a left-over app would keep its database and display busy.
 */
export async function closeApp(browser) {
  if (!browser) return;
  await browser.deleteSession().catch(() => {});
  const dir = dataDirs.get(browser);
  if (!dir) return;
  const pattern = `--data-dir ${dir}`;
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    try {
      execFileSync("pgrep", ["-f", "--", pattern]);
    } catch {
      return; // no such process any more
    }
    await sleep(200);
  }
  try {
    execFileSync("pkill", ["-KILL", "-f", "--", pattern]);
  } catch {
    // already gone
  }
}

export async function screen(browser) {
  return browser.$(".app").getAttribute("data-screen");
}

export async function waitForScreen(browser, name, timeout = 10_000) {
  await browser.waitUntil(async () => (await screen(browser)) === name, {
    timeout,
    timeoutMsg: `expected the ${name} screen, got ${await screen(browser)}`,
  });
}

/** Replaces an input's value by typing, as a person would. */
export async function type(browser, selector, text) {
  const el = await browser.$(selector);
  await el.waitForDisplayed({ timeout: 5_000 });
  await el.click();
  await el.clearValue();
  if (text) await el.setValue(text);
}

export async function text(browser, selector) {
  const el = await browser.$(selector);
  await el.waitForDisplayed({ timeout: 5_000 });
  return el.getText();
}

/**
 * Saves what the X display shows (the real window, as a person sees it). WebKitWebDriver's own
 * screenshot can hang after some page transitions under Xvfb, so the display is captured instead
 * with ImageMagick's `import`, which the test set-up installs.
 */
export async function shot(browser, name) {
  await browser.execute(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  execFileSync("import", ["-display", process.env.DISPLAY ?? ":99", "-window", "root", join(artifacts, `${name}.png`)], {
    timeout: 15_000,
  });
}

/** The {code, message} the UI shows, once it appears. */
export async function alertShown(browser) {
  const el = await browser.$('[role="alert"]');
  await el.waitForDisplayed({ timeout: 10_000 });
  return { code: await el.getAttribute("data-code"), message: await el.getText() };
}

/** Demo operators (see crates/kagiya-desk/src/demo.rs). */
export const demo = {
  supervisor: { id: "sv001", name: "山田 花子", password: "Kagiya-Demo-2026" },
  lockedOperator: { id: "op102", password: "Suzuki-Branch-0102" },
};

export async function signIn(browser, id, password) {
  await type(browser, "#signin-id", id);
  await type(browser, "#signin-password", password);
  await browser.$("#signin-submit").click();
}

/** The event kinds in the home screen's audit table, newest first. */
export async function eventKinds(browser) {
  return browser.execute(() =>
    Array.from(document.querySelectorAll("#events tbody tr")).map((r) => r.getAttribute("data-kind")),
  );
}
