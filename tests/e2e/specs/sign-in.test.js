// Sign-in in the real window on the demo branch: a wrong password is refused with the console's
// message, a locked operator is told so, and the right password opens the console.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as h from "../harness.js";

describe("sign-in", () => {
  let driver;
  let app;

  before(async () => {
    driver = await h.startDriver("sign-in");
    app = await h.openApp(h.freshDataDir("sign-in"), ["--demo"]);
  });

  after(async () => {
    await h.closeApp(app);
    await h.stopDriver(driver);
  });

  it("starts on the sign-in screen when operators exist", async () => {
    assert.equal(await h.screen(app), "signed_out");
    await h.shot(app, "04-sign-in-ja");
  });

  it("refuses a wrong password without saying whether the ID exists", async () => {
    await h.signIn(app, h.demo.supervisor.id, "Kagiya-Demo-2025");
    const wrong = await h.alertShown(app);
    assert.equal(wrong.code, "auth.invalid_credentials");
    assert.match(wrong.message, /オペレーターIDまたはパスワードが正しくありません/);
    assert.equal(await app.$("#signin-password").getValue(), "", "the password field is cleared");
    await h.shot(app, "05-sign-in-wrong-password");

    await h.signIn(app, "nobody", "Kagiya-Demo-2026");
    const unknown = await h.alertShown(app);
    assert.equal(unknown.code, "auth.invalid_credentials");
    assert.equal(unknown.message, wrong.message);
  });

  it("tells a locked operator to wait", async () => {
    await h.signIn(app, h.demo.lockedOperator.id, h.demo.lockedOperator.password);
    await app.waitUntil(async () => (await app.$('[role="alert"]').getAttribute("data-code")) === "auth.locked", {
      timeout: 10_000,
      timeoutMsg: "no lock message",
    });
    assert.match(await h.text(app, '[role="alert"]'), /一時的に利用停止中/);
    assert.equal(await h.screen(app), "signed_out");
  });

  it("signs in with the right password", async () => {
    await h.signIn(app, h.demo.supervisor.id, h.demo.supervisor.password);
    await h.waitForScreen(app, "active");
    assert.equal(await h.text(app, "#operator-name"), h.demo.supervisor.name);
    const kinds = await h.eventKinds(app);
    assert.deepEqual(kinds.slice(0, 4), [
      "operator_signed_in",
      "operator_sign_in_failed",
      "operator_sign_in_failed",
      "operator_sign_in_failed",
    ]);
    await h.shot(app, "06-home-demo-ja");
  });

  it("signs out back to the sign-in screen", async () => {
    await app.$("#sign-out").click();
    await h.waitForScreen(app, "signed_out");
  });
});
