// Issue 14 end to end: two branch PCs (two data folders, one window at a time) and one
// kagiya-server on PostgreSQL. Branch A enrols and pulls its customer; the user is locked online;
// with the server down, A unlocks the user from the paper request; meanwhile the user fails
// online twice more; when A syncs, the server keeps those failures and A's review list says so.
// Branch B, enrolled afterwards, shows the decided state. Runs under scripts/with-postgres.sh
// (the test command does), with the server binary `cargo test --workspace` built.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer } from "node:net";
import * as h from "../harness.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const SERVER_BIN = process.env.KAGIYA_SERVER ?? join(root, "target", "debug", "kagiya-server");
const SV = { id: "sv001", password: "Branch-Login-2026", confirmation: "Branch-Confirm-2026" };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
  });
}

/** The first supervisor of a new branch data folder, through the command line. */
function initBranch(dataDir) {
  const r = spawnSync(h.cli, ["--data-dir", dataDir, "init", "--operator-id", SV.id, "--name", "山田 花子"], {
    input: `${SV.password}\n${SV.confirmation}\n`,
    encoding: "utf8",
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
}

describe("sync between two branches and the server", () => {
  let driver;
  let app;
  let server;
  let port;
  let config;
  const dataA = h.freshDataDir("sync-a");
  const dataB = h.freshDataDir("sync-b");

  function kagiyaServer(args) {
    const r = spawnSync(SERVER_BIN, ["--config", config, ...args], { encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  }

  async function startServer() {
    server = spawn(SERVER_BIN, ["--config", config, "serve"], {
      env: { ...process.env, KAGIYA_SERVER_LISTEN: `127.0.0.1:${port}` },
      stdio: "ignore",
    });
    for (let i = 0; i < 200; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) return;
      } catch {
        // not yet
      }
      await sleep(50);
    }
    throw new Error("kagiya-server did not become ready");
  }

  function stopServer() {
    server?.kill("SIGKILL");
    server = undefined;
  }

  async function wrongSignIn(id) {
    const r = await fetch(`http://127.0.0.1:${port}/v1/sign-in`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ login_id: id, password: "wrong-password-9" }),
    });
    assert.equal(r.status, 401);
  }

  async function nav(screen) {
    await app.$(`#nav-${screen}`).click();
    await app.waitUntil(async () => (await app.$(".content").getAttribute("data-place")) === screen, {
      timeout: 5_000,
      timeoutMsg: `did not open ${screen}`,
    });
  }

  async function badge(state) {
    await app.waitUntil(async () => (await app.$("#sync-badge").getAttribute("data-state")) === state, {
      timeout: 20_000,
      timeoutMsg: `the sync badge did not say ${state}`,
    });
  }

  /** The users screen's row of `id`, read fresh. */
  async function userRow(id) {
    await nav("dashboard");
    await nav("users");
    await h.type(app, "#user-search", id);
    const row = app.$(`.vrow[data-login-id="${id}"]`);
    await row.waitForDisplayed({ timeout: 10_000 });
    return row;
  }

  async function enrol(dataDir, branch) {
    const code = kagiyaServer(["device", "enroll", "--branch", branch, "--customer", "K-1001"]);
    app = await h.openApp(dataDir);
    await h.waitForScreen(app, "signed_out");
    await h.signIn(app, SV.id, SV.password);
    try {
      await h.waitForScreen(app, "active");
    } catch (e) {
      const alert = await app.$('[role="alert"]');
      const why = (await alert.isExisting()) ? `${await alert.getAttribute("data-code")}: ${await alert.getText()}` : "no alert";
      await h.shot(app, `sync-sign-in-failed-${branch}`);
      throw new Error(`sign-in at ${branch} failed (${why}; screen ${await h.screen(app)})`, { cause: e });
    }
    await nav("sync");
    await h.type(app, "#sync-server", `http://127.0.0.1:${port}`);
    await h.type(app, "#sync-code", code.toLowerCase());
    await h.type(app, "#sync-confirmation", SV.confirmation);
    await app.$("#sync-enrol").click();
    await app.$("#sync-enrolled").waitForDisplayed({ timeout: 20_000 });
    await badge("online");
  }

  before(async () => {
    const url = process.env.KAGIYA_TEST_DATABASE_URL;
    if (!url) throw new Error("run under scripts/with-postgres.sh (the test command does)");
    port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), "kagiya-e2e-server-"));
    config = join(dir, "server.toml");
    writeFileSync(
      config,
      `database_url = ${JSON.stringify(url)}\npool_size = 4\n[throttle]\nper_source_per_minute = 100000\nper_login_id_per_minute = 100000\n`,
    );
    kagiyaServer(["migrate"]);
    kagiyaServer(["demo"]);
    initBranch(dataA);
    initBranch(dataB);
    await startServer();
    driver = await h.startDriver("sync");
  });

  after(async () => {
    await h.closeApp(app);
    await h.stopDriver(driver);
    stopServer();
  });

  it("branch A enrols with the one-time code and pulls its customer", async () => {
    await enrol(dataA, "minato-branch");
    const row = await userRow("minato-sato");
    assert.equal(await row.getAttribute("class").then((c) => c.includes("locked")), false);
    await h.shot(app, "40-sync-enrolled-ja");
  });

  it("a lock made online reaches the branch, which unlocks it offline", async () => {
    for (let i = 0; i < 5; i++) await wrongSignIn("minato-sato");
    await app.$("#sync-now").click();
    await app.waitUntil(async () => (await (await userRow("minato-sato")).getAttribute("class")).includes("locked"), {
      timeout: 20_000,
      timeoutMsg: "the branch did not see the lock",
    });
    // The server goes away: the branch keeps working.
    stopServer();
    await app.$("#sync-now").click();
    await badge("offline");
    const row = await userRow("minato-sato");
    await row.$("input[type=checkbox]").click();
    await app.$("#bulk-unlock").click();
    await h.type(app, "#unlock-confirmation", SV.confirmation);
    await app.$("#unlock-submit").click();
    await app.$("#unlock-results").waitForDisplayed({ timeout: 10_000 });
    assert.deepEqual(await app.$$("#unlock-results tbody tr").map((r) => r.getAttribute("data-outcome")), ["unlocked"]);
    await app.$("#unlock-close").click();
    await app.waitUntil(async () => /1/.test(await h.text(app, "#sync-waiting")), {
      timeout: 10_000,
      timeoutMsg: "the badge did not count the waiting op",
    });
    await h.shot(app, "41-sync-offline-unlock-ja");
  });

  it("the failures made online meanwhile still count, and the review list says so", async () => {
    await startServer();
    await wrongSignIn("minato-sato");
    await wrongSignIn("minato-sato");
    await app.$("#sync-now").click();
    await app.waitUntil(async () => (await app.$("#go-review").isExisting()), {
      timeout: 20_000,
      timeoutMsg: "no review item",
    });
    await app.$("#go-review").click();
    const item = app.$("#sync-review tbody tr");
    await item.waitForDisplayed({ timeout: 10_000 });
    assert.equal(await item.getAttribute("data-outcome"), "applied");
    assert.match(await item.getText(), /2 回は引き続き数えます/);
    await h.shot(app, "42-sync-review-ja");
    await h.closeApp(app);
    app = undefined;
  });

  it("branch B, enrolled afterwards, shows the decided state", async () => {
    // Three more wrong passwords: with the two kept, the user is locked again.
    for (let i = 0; i < 3; i++) await wrongSignIn("minato-sato");
    await enrol(dataB, "minato-branch-2");
    const row = await userRow("minato-sato");
    assert.equal((await row.getAttribute("class")).includes("locked"), true);
    await h.shot(app, "43-sync-branch-b-ja");
  });
});
