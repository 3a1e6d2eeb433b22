// The idle lock in the real window: after the idle time the screen is hidden behind a
// re-sign-in; a wrong password is refused; the right one brings back the screen as it was.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as h from "../harness.js";

const IDLE_SECONDS = 4;

describe("idle lock", () => {
  let driver;
  let app;

  before(async () => {
    driver = await h.startDriver("idle-lock");
    app = await h.openApp(h.freshDataDir("idle-lock"), ["--demo", "--idle-lock-seconds", String(IDLE_SECONDS)]);
    await h.signIn(app, h.demo.supervisor.id, h.demo.supervisor.password);
    await h.waitForScreen(app, "active");
  });

  after(async () => {
    await h.closeApp(app);
    await h.stopDriver(driver);
  });

  it("locks the screen after the idle time and keeps the work behind it", async () => {
    // Unsaved input that must survive the lock.
    await app.$("#nav-settings").click();
    await h.type(app, "#idle-minutes", "7");
    const typedAt = Date.now();
    await h.waitForScreen(app, "locked", 20_000);
    const lockedAfter = (Date.now() - typedAt) / 1000;
    assert.ok(lockedAfter >= IDLE_SECONDS - 1, `locked too early: ${lockedAfter}s`);
    assert.equal(await app.$("#lock-screen").isDisplayed(), true);
    assert.equal(await app.$("#settings-title").isDisplayed(), false, "the kept screen is hidden");
    assert.match(await h.text(app, "#locked-operator"), /山田 花子/);
    await h.shot(app, "09-idle-locked-ja");
  });

  it("refuses a wrong password on the lock screen", async () => {
    await h.type(app, "#resume-password", "not-my-password");
    await app.$("#resume-submit").click();
    const err = await h.alertShown(app);
    assert.equal(err.code, "auth.invalid_credentials");
    assert.equal(await h.screen(app), "locked");
  });

  it("re-sign-in brings the screen back as it was", async () => {
    await h.type(app, "#resume-password", h.demo.supervisor.password);
    await app.$("#resume-submit").click();
    await h.waitForScreen(app, "active");
    assert.equal(await app.$("#idle-minutes").getValue(), "7", "unsaved input survived the lock");
    await app.$("#nav-dashboard").click();
    const kinds = await h.eventKinds(app);
    await app.$("#refresh-events").click();
    await app.waitUntil(
      async () => (await app.$("#events tbody tr:first-child").getAttribute("data-kind")) === "session_resumed",
      { timeout: 5_000, timeoutMsg: `no session_resumed entry (had ${kinds.join(",")})` },
    );
  });

  it("locks by hand with Ctrl+Shift+L and signs out from the lock screen", async () => {
    await app.$("#home-title").click();
    await app.keys(["Control", "Shift", "l"]);
    await h.waitForScreen(app, "locked", 5_000);
    await app.$("#lock-sign-out").click();
    await h.waitForScreen(app, "signed_out");
  });
});
