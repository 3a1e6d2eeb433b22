// A damaged database file in the real window: the app says so in the UI language with
// {code, message}, does not crash, and leaves the file as it was.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as h from "../harness.js";

describe("damaged database", () => {
  let driver;
  let app;
  const dataDir = h.freshDataDir("damaged");
  const dbFile = join(dataDir, "kagiya.db");
  const junk = Buffer.from("not an SQLite file — a torn copy from a USB stick\n".repeat(200));

  before(async () => {
    writeFileSync(dbFile, junk);
    driver = await h.startDriver("damaged-database");
    app = await h.openApp(dataDir);
  });

  after(async () => {
    await h.closeApp(app);
    await h.stopDriver(driver);
  });

  it("shows why the console cannot open, and changes nothing", async () => {
    assert.equal(await h.screen(app), "fatal");
    assert.equal(await h.text(app, "#fatal-title"), "鍵屋を開けませんでした");
    const err = await h.alertShown(app);
    assert.equal(err.code, "storage.open_failed");
    assert.match(err.message, /データベースファイルを開けませんでした/);
    await h.shot(app, "10-damaged-database-ja");
    assert.deepEqual(readFileSync(dbFile), junk);
  });
});
