// A database the console cannot open, in the real window: the app says why in the UI language
// with {code, message}, does not crash, and leaves the file as it was. Two causes: a file whose
// key is not in the OS keyring (never replaced by a new key), and a damaged file whose key is.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as h from "../harness.js";

describe("database that cannot be opened", () => {
  let driver;
  const junk = Buffer.from("not an SQLite file — a torn copy from a USB stick\n".repeat(200));

  before(async () => {
    driver = await h.startDriver("damaged-database");
  });

  after(async () => {
    await h.stopDriver(driver);
  });

  it("refuses a database whose key is not in the OS keyring, and makes up no key", async () => {
    const dataDir = h.freshDataDir("nokey");
    const dbFile = join(dataDir, "kagiya.db");
    writeFileSync(dbFile, junk);
    const app = await h.openApp(dataDir);
    try {
      assert.equal(await h.screen(app), "fatal");
      const err = await h.alertShown(app);
      assert.equal(err.code, "storage.key_missing");
      assert.match(err.message, /暗号鍵がこの端末の鍵ストアにありません/);
      await h.shot(app, "10-no-database-key-ja");
    } finally {
      await h.closeApp(app);
    }
    assert.deepEqual(readFileSync(dbFile), junk);
  });

  it("reports a damaged file whose key exists, and changes nothing", async () => {
    const dataDir = h.freshDataDir("damaged");
    const dbFile = join(dataDir, "kagiya.db");
    // First run: the app creates the database and its key in the keyring.
    let app = await h.openApp(dataDir);
    assert.equal(await h.screen(app), "setup");
    await h.closeApp(app);
    assert.ok(existsSync(dbFile));
    // A torn copy: the file alone, without the write-ahead log that belonged to the original.
    writeFileSync(dbFile, junk);
    rmSync(`${dbFile}-wal`, { force: true });
    rmSync(`${dbFile}-shm`, { force: true });
    app = await h.openApp(dataDir);
    try {
      assert.equal(await h.screen(app), "fatal");
      assert.equal(await h.text(app, "#fatal-title"), "鍵屋を開けませんでした");
      const err = await h.alertShown(app);
      assert.equal(err.code, "storage.open_failed");
      assert.match(err.message, /データベースファイルを開けませんでした/);
      await h.shot(app, "11-damaged-database-ja");
    } finally {
      await h.closeApp(app);
    }
    assert.deepEqual(readFileSync(dbFile), junk);
  });
});
