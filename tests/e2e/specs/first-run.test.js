// First run in the real window: an empty database asks for the first supervisor, checks the
// passwords live against the operator policy, refuses bad input, and signs the supervisor in.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as h from "../harness.js";

describe("first run", () => {
  let driver;
  let app;

  before(async () => {
    driver = await h.startDriver("first-run");
    app = await h.openApp(h.freshDataDir("first-run"));
  });

  after(async () => {
    await h.closeApp(app);
    await h.stopDriver(driver);
  });

  it("shows the registration form on an empty database, in Japanese from the OS locale", async () => {
    assert.equal(await h.screen(app), "setup");
    assert.equal(await h.text(app, "#setup-title"), "最初のスーパーバイザーを登録");
    await h.shot(app, "01-first-run-ja");
  });

  it("checks the password live against the operator policy", async () => {
    const lengthRule = '#login-rules [data-rule="password.length"]';
    const commonRule = '#login-rules [data-rule="password.not_common"]';
    await h.type(app, "#operator-id", "sv001");
    await h.type(app, "#password", "Password123!");
    await app.waitUntil(async () => (await app.$(lengthRule).getAttribute("data-ok")) === "true", {
      timeout: 5_000,
      timeoutMsg: "length rule did not turn green",
    });
    assert.equal(await app.$(commonRule).getAttribute("data-ok"), "false", "a common password is flagged");
    await h.type(app, "#password", "Branch-Login-2026");
    await app.waitUntil(async () => (await app.$(commonRule).getAttribute("data-ok")) === "true", {
      timeout: 5_000,
      timeoutMsg: "blocklist rule did not turn green",
    });
    await h.shot(app, "02-first-run-checklist");
  });

  it("refuses a confirmation password equal to the login password and stays on the form", async () => {
    await h.type(app, "#name", "山田 花子");
    await h.type(app, "#password-repeat", "Branch-Login-2026");
    await h.type(app, "#confirmation", "Branch-Login-2026");
    await h.type(app, "#confirmation-repeat", "Branch-Login-2026");
    await app.$("#register").click();
    const err = await h.alertShown(app);
    assert.equal(err.code, "password.policy");
    assert.match(err.message, /パスワードがポリシーを満たしていません/);
    assert.equal(await h.screen(app), "setup");
  });

  it("registers the supervisor and signs them in", async () => {
    await h.type(app, "#confirmation", "Branch-Confirm-2026");
    await h.type(app, "#confirmation-repeat", "Branch-Confirm-2026");
    await app.$("#register").click();
    await h.waitForScreen(app, "active");
    assert.equal(await h.text(app, "#operator-name"), "山田 花子");
    assert.equal(await h.text(app, "#operator-role"), "スーパーバイザー");
    const kinds = await h.eventKinds(app);
    assert.deepEqual(kinds, ["operator_signed_in", "operator_created"]);
    await h.shot(app, "03-home-ja");
  });
});
