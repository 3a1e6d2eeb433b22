// The language switch in the real window: every label follows it, the console's messages follow
// it, and the choice survives a restart.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as h from "../harness.js";

describe("language switch", () => {
  let driver;
  let app;
  const dataDir = h.freshDataDir("language");

  before(async () => {
    driver = await h.startDriver("language");
    app = await h.openApp(dataDir, ["--demo"]);
  });

  after(async () => {
    await h.closeApp(app);
    await h.stopDriver(driver);
  });

  it("switches the sign-in screen to English", async () => {
    assert.equal(await h.text(app, "#signin-title"), "サインイン");
    await app.$("#lang-en").click();
    await app.waitUntil(async () => (await h.text(app, "#signin-title")) === "Sign in", {
      timeout: 5_000,
      timeoutMsg: "title did not switch to English",
    });
    assert.equal(await app.$("#lang-en").getAttribute("aria-pressed"), "true");
    assert.equal(await app.$("html").getAttribute("lang"), "en");
  });

  it("shows the console's messages in English too", async () => {
    await h.signIn(app, h.demo.supervisor.id, "wrong-password");
    const err = await h.alertShown(app);
    assert.equal(err.code, "auth.invalid_credentials");
    assert.match(err.message, /The operator ID or password is incorrect/);
    await h.shot(app, "07-sign-in-en");
  });

  it("keeps English after a restart and translates the signed-in screen", async () => {
    await h.closeApp(app);
    app = await h.openApp(dataDir);
    assert.equal(await h.text(app, "#signin-title"), "Sign in");
    await h.signIn(app, h.demo.supervisor.id, h.demo.supervisor.password);
    await h.waitForScreen(app, "active");
    assert.equal(await h.text(app, "#operator-role"), "Supervisor");
    assert.equal(await h.text(app, "#activity-title"), "Recent activity (audit log)");
    const first = await h.text(app, "#events tbody tr:first-child td:last-child");
    assert.equal(first, "sv001 signed in");
    await h.shot(app, "08-home-en");
    await app.$("#lang-ja").click();
    // The switch is itself recorded, and every summary is shown in Japanese from then on.
    await app.waitUntil(
      async () => (await h.text(app, "#events tbody tr:first-child td:last-child")) === "設定「表示言語」を「ja」に変更",
      { timeout: 5_000, timeoutMsg: "the language change is not at the top of the audit list in Japanese" },
    );
    assert.equal(await h.text(app, '#events tbody tr[data-kind="operator_signed_in"] td:last-child'), "sv001 がサインイン");
  });
});
