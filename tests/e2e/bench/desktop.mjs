// The desktop benchmark (not a test): the real window on a branch with 100,000 users. Measures
// launch to the sign-in screen, sign-in to an interactive dashboard, one users-table search per
// keystroke (input event to rows on screen, measured in the page), and the peak memory of the
// app and its WebKit processes. Run by scripts/bench-desktop.sh; figures go to stdout as JSON.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as h from "../harness.js";

const dataDir = process.argv[2];
if (!dataDir) throw new Error("usage: desktop.mjs DATA_DIR");
const KEYS = (process.env.KAGIYA_BENCH_KEYS ?? "b0123,利用者 456,x0004,b").split(",");

const now = () => performance.now();

function peakKib(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

/** The proportional set size of the app and its WebKit processes, in MiB (shared pages divided). */
function pssMib(tree) {
  return Math.round(
    tree.reduce((sum, pid) => {
      try {
        return sum + Number(/Pss:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"))?.[1] ?? 0);
      } catch {
        return sum;
      }
    }, 0) / 1024,
  );
}

/** The largest mappings by PSS over the whole tree, in MiB: what the total is made of. */
function pssByMapping(tree, top = 12) {
  const by = new Map();
  for (const pid of tree) {
    let name = null;
    let text = "";
    try {
      text = readFileSync(`/proc/${pid}/smaps`, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n")) {
      const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
      if (head) {
        name = (head[1] || "[anon]").replace(/^.*\//, "");
        continue;
      }
      const pss = /^Pss:\s+(\d+)/.exec(line);
      if (pss && name) by.set(name, (by.get(name) ?? 0) + Number(pss[1]));
    }
  }
  return Object.fromEntries(
    [...by.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([n, kib]) => [n, Math.round(kib / 102.4) / 10]),
  );
}

function processTree(root) {
  const out = [root];
  for (let i = 0; i < out.length; i++) {
    try {
      const kids = execFileSync("pgrep", ["-P", String(out[i])], { encoding: "utf8" }).trim().split("\n").filter(Boolean);
      out.push(...kids.map(Number));
    } catch {
      // no children
    }
  }
  return out;
}

const driver = await h.startDriver("bench");
const figures = {};
let app;
try {
  const t0 = now();
  app = await h.openApp(dataDir);
  figures.launch_to_sign_in_ms = Math.round(now() - t0);
  const pidNow = () => Number(execFileSync("pgrep", ["-f", "-n", "--", `--data-dir ${dataDir}`], { encoding: "utf8" }).trim());
  // The floor: the sign-in screen, before the database is read — the libraries of the app and
  // of WebKitGTK, and this machine's GL stack (Mesa's llvmpipe under Xvfb).
  await app.pause(1000);
  figures.pss_at_sign_in_mib = pssMib(processTree(pidNow()));
  figures.pss_at_sign_in_by_mapping_mib = pssByMapping(processTree(pidNow()));
  figures.rss_at_sign_in_kib = processTree(pidNow()).map((pid) => {
    try {
      return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
    } catch {
      return 0;
    }
  });

  await h.type(app, "#signin-id", "sv001");
  await h.type(app, "#signin-password", "Kagiya-Demo-2026");
  const t1 = now();
  await app.$("#signin-submit").click();
  await app.waitUntil(async () => (await app.$("#tile-login-temporary").isExisting()) && (await app.$("#tile-login-temporary").getAttribute("data-count")) !== null, {
    timeout: 30_000,
    interval: 20,
  });
  figures.sign_in_to_dashboard_ms = Math.round(now() - t1);
  figures.dashboard_locked_login = Number(await app.$("#tile-login-temporary").getAttribute("data-count"));
  figures.pss_after_sign_in_mib = pssMib(processTree(pidNow()));

  await app.$("#nav-users").click();
  await app.$("#users-viewport").waitForExist({ timeout: 30_000 });
  await app.waitUntil(async () => Number(await app.$("#users-total").getAttribute("data-total")) > 0, { timeout: 30_000 });
  figures.users_total = Number(await app.$("#users-total").getAttribute("data-total"));

  // Each keystroke: set the field as typing does and wait for the page's own measurement
  // (input event → console → rows rendered), read from data-last-search-ms.
  const keystrokes = [];
  for (const word of KEYS) {
    for (let n = 1; n <= word.length; n++) {
      const text = word.slice(0, n);
      const measured = await app.execute(async (value) => {
        const input = document.querySelector("#user-search");
        const viewport = document.querySelector("#users-viewport");
        const before = Number(viewport.getAttribute("data-searches"));
        input.value = value;
        input.dispatchEvent(new Event("input", { bubbles: true }));
        const deadline = Date.now() + 10_000;
        while (Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 1));
          if (Number(viewport.getAttribute("data-searches")) > before) {
            return [Number(viewport.getAttribute("data-last-search-ms")), Number(viewport.getAttribute("data-last-ipc-ms"))];
          }
        }
        return [-1, -1];
      }, text);
      const [ms, inFlowIpcMs] = measured;
      const total = Number(await app.$("#users-total").getAttribute("data-total"));
      // The same query through the IPC alone (console + SQL + serialisation), without rendering.
      const ipcMs = await app.execute(async (value) => {
        const invoke = window.__TAURI_INTERNALS__.invoke;
        const query = { text: value, contract_no: null, filter: "all", sort: "login_id", descending: false, offset: 0, limit: 50 };
        let best = Infinity;
        for (let i = 0; i < 3; i++) {
          const t = performance.now();
          await invoke("user_page", { query });
          best = Math.min(best, performance.now() - t);
        }
        return Math.round(best * 10) / 10;
      }, text);
      keystrokes.push({ text, ms, ipc_in_flow_ms: inFlowIpcMs, ipc_repeat_ms: ipcMs, total });
    }
  }
  figures.keystrokes = keystrokes;
  const times = keystrokes.map((k) => k.ms).sort((a, b) => a - b);
  figures.keystroke_ms = {
    median: times[Math.floor(times.length / 2)],
    p95: times[Math.min(times.length - 1, Math.floor(times.length * 0.95))],
    max: times.at(-1),
  };

  // Scroll to the middle of the unfiltered list.
  await app.execute(() => {
    const input = document.querySelector("#user-search");
    input.value = "";
    input.dispatchEvent(new Event("input", { bubbles: true }));
  });
  await app.pause(500);
  const scrollMs = await app.execute(async () => {
    const v = document.querySelector("#users-viewport");
    const t = performance.now();
    v.scrollTop = v.scrollHeight / 2;
    v.dispatchEvent(new Event("scroll"));
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      await new Promise((r) => requestAnimationFrame(r));
      const rows = [...v.querySelectorAll(".vrow")].filter((r) => r.dataset.loginId);
      const top = v.scrollTop;
      if (rows.some((r) => Math.abs(parseFloat(r.style.top) - top) < 40)) return performance.now() - t;
    }
    return -1;
  });
  figures.scroll_to_middle_ms = Math.round(scrollMs);
  await h.shot(app, "bench-users-100k");

  const tree = processTree(pidNow());
  const peaks = tree.map((pid) => {
    let name = "?";
    try {
      name = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
    } catch {
      // gone
    }
    return { pid, name, peak_kib: peakKib(pid) };
  });
  figures.peak_memory = peaks;
  // After browsing the users table (search, scroll to the middle of 100,000 rows).
  figures.pss_after_users_mib = pssMib(tree);
  figures.peak_memory_total_mib = Math.round(peaks.reduce((s, p) => s + p.peak_kib, 0) / 1024);
} finally {
  await h.closeApp(app);
  await h.stopDriver(driver);
}
console.log(JSON.stringify(figures, null, 2));
