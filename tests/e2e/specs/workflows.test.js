// The branch workflows in the real window, end to end: register a customer and its users, lock
// them by wrong passwords through the CLI's authentication path (the server's path), see it on
// the dashboard, bulk unlock with the confirmation password, issue a temporary password and
// print its slip, run an initialization request with a second supervisor's approval, and export
// the audit log. Screenshots of every screen in both languages go to the artifacts.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as h from "../harness.js";
import { catchPrints, printed, printToPdf } from "../print.js";

const CLI = h.cli;
const SV = { id: "sv001", password: "Kagiya-Demo-2026", confirmation: "Kakunin-Demo-2026" };
const OP = { id: "op101", password: "Sato-Branch-0101", confirmation: "Sato-Kakunin-0101" };
const CUSTOMER = "E2E-001";

/** Runs the CLI on the app's data folder with `input` on stdin. */
function cli(dataDir, args, input = "") {
  const r = spawnSync(CLI, ["--data-dir", dataDir, ...args], { input, encoding: "utf8", timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Sends wrong login passwords for `id` through the authentication path until it is locked. A
 *  wrong password never answers "locked" (issue 12, finding 7): the branch's own view says when. */
function lockByFailures(dataDir, id) {
  for (let i = 0; i < 20; i++) {
    const r = cli(dataDir, ["auth", "verify", id, "--channel", "api"], "wrong-password-123\n");
    assert.equal(r.code, 3, `wrong password answered ${r.code}: ${r.err}`);
    const shown = cli(dataDir, ["--json", "--operator", SV.id, "user", "show", id], `${SV.password}\n`);
    assert.equal(shown.code, 0, shown.err);
    if (["temporarily_stopped", "stopped"].includes(JSON.parse(shown.out).login.state.state)) return i;
  }
  throw new Error(`${id} was not locked after 20 failures`);
}

/** A CA and two S/MIME certificates made by openssl, as a customer's mail program would have. */
function makeCertificates() {
  const dir = mkdtempSync(join(tmpdir(), "kagiya-e2e-pki-"));
  const ssl = (...args) => {
    const r = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
    assert.equal(r.status, 0, `openssl ${args.join(" ")}: ${r.stderr}`);
  };
  ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "3650",
    "-subj", "/CN=Kagiya E2E CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign");
  for (const who of ["e2e-admin", "other"]) {
    writeFileSync(join(dir, `${who}.ext`), `subjectAltName=email:${who}@example.co.jp\nextendedKeyUsage=emailProtection\nkeyUsage=digitalSignature,keyEncipherment\n`);
    ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${who}.key`, "-out", `${who}.csr`, "-subj", `/CN=${who}`);
    ssl("x509", "-req", "-in", `${who}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${who}.pem`, "-days", "365", "-extfile", `${who}.ext`);
  }
  ssl("crl2pkcs7", "-nocrl", "-certfile", "e2e-admin.pem", "-certfile", "ca.pem", "-out", "e2e-admin.p7b");
  return { good: join(dir, "e2e-admin.p7b"), other: join(dir, "other.pem") };
}

async function nav(app, screen) {
  await app.$(`#nav-${screen}`).click();
  await app.waitUntil(async () => (await app.$(".content").getAttribute("data-place")) === screen, {
    timeout: 5_000,
    timeoutMsg: `did not open ${screen}`,
  });
}

async function count(app, selector) {
  const el = await app.$(selector);
  await el.waitForDisplayed({ timeout: 10_000 });
  return Number(await el.getAttribute("data-count"));
}

describe("branch workflows", () => {
  let driver;
  let app;
  let dataDir;
  let exportDir;

  before(async () => {
    driver = await h.startDriver("workflows");
    dataDir = h.freshDataDir("workflows");
    exportDir = mkdtempSync(join(tmpdir(), "kagiya-e2e-exports-"));
    app = await h.openApp(dataDir, ["--demo", "--export-dir", exportDir]);
    await h.signIn(app, SV.id, SV.password);
    await h.waitForScreen(app, "active");
  });

  after(async () => {
    await h.closeApp(app);
    await h.stopDriver(driver);
  });

  it("registers a customer and its master and admin, each with a slip", async () => {
    await nav(app, "customers");
    await app.$("#new-customer").click();
    await h.type(app, "#c-contract", CUSTOMER);
    await h.type(app, "#c-name", "株式会社テスト港湾");
    await h.type(app, "#c-confirmation", SV.confirmation);
    await app.$("#c-register").click();
    await app.$("#customer-title").waitForDisplayed({ timeout: 10_000 });
    assert.match(await h.text(app, "#customer-title"), /株式会社テスト港湾/);
    for (const [id, name, role] of [["e2e-master", "港 一郎", "master"], ["e2e-admin", "港 花子", "admin"]]) {
      if (!(await app.$("#user-form").isExisting())) await app.$("#customer-new-user").click();
      await h.type(app, "#u-login-id", id);
      await h.type(app, "#u-name", name);
      await app.$("#u-role").selectByAttribute("value", role);
      await h.type(app, "#u-confirmation", SV.confirmation);
      await app.$("#u-register").click();
      const slip = await app.$(`.slip[data-login-id="${id}"]`);
      await slip.waitForDisplayed({ timeout: 10_000 });
      const login = await slip.$(".slip-login").getText();
      assert.ok(login.length >= 8, "a temporary login password is on the slip");
      await h.shot(app, `20-slip-new-user-${role}`);
      await app.$("#close-slips").click();
      await app.$("#slips").waitForExist({ reverse: true, timeout: 5_000 });
    }
    await app.waitUntil(async () => (await h.text(app, "#customer-user-count")) === "2", { timeout: 5_000 });
    await h.shot(app, "21-customer-ja");
  });

  it("shows locks made through the authentication path on the dashboard", async () => {
    await nav(app, "dashboard");
    const locksBefore = await count(app, "#tile-login-temporary");
    const todayBar = async () => Number(await app.$("#lockout-chart rect.bar:last-of-type").getAttribute("data-count"));
    const todayBefore = await todayBar();
    assert.equal(await app.$(`#need-request li[data-contract-no="${CUSTOMER}"]`).isExisting(), false);
    lockByFailures(dataDir, "e2e-master");
    lockByFailures(dataDir, "e2e-admin");
    await app.$("#refresh-dashboard").click();
    await app.waitUntil(async () => (await count(app, "#tile-login-temporary")) === locksBefore + 2, {
      timeout: 10_000,
      timeoutMsg: "the dashboard did not count the 2 new temporary locks",
    });
    // Seed 004: temporary stops clear by themselves, so no paper request — the dashboard says when.
    assert.equal(await app.$(`#need-request li[data-contract-no="${CUSTOMER}"]`).isExisting(), false);
    assert.equal(await app.$(`#managers-waiting li[data-contract-no="${CUSTOMER}"]`).isExisting(), true);
    assert.equal(await todayBar(), todayBefore + 2, "today's bar counts both locks");
    await h.shot(app, "22-dashboard-ja");
  });

  it("finds the locked users, and bulk unlocks them with the confirmation password", async () => {
    await app.$("#tile-login-temporary").click();
    const total = async () => Number(await app.$("#users-total").getAttribute("data-total"));
    await app.waitUntil(async () => (await app.$("#user-filter").getValue()) === "locked" && (await total()) >= 2, {
      timeout: 10_000,
      timeoutMsg: "the tile did not open the locked users",
    });
    await h.type(app, "#user-search", "e2e-m");
    await app.waitUntil(async () => Number(await app.$("#users-total").getAttribute("data-total")) === 1, { timeout: 5_000 });
    await h.type(app, "#user-search", "e2e-");
    await app.waitUntil(async () => Number(await app.$("#users-total").getAttribute("data-total")) === 2, { timeout: 5_000 });
    for (const id of ["e2e-admin", "e2e-master"]) {
      await app.$(`.vrow[data-login-id="${id}"] input[type=checkbox]`).click();
    }
    assert.match(await h.text(app, "#selected-count"), /2/);
    await h.shot(app, "23-users-locked-ja");
    await app.$("#bulk-unlock").click();
    // A wrong confirmation password is refused and unlocks nobody.
    await h.type(app, "#unlock-confirmation", "not-my-confirmation");
    await app.$("#unlock-submit").click();
    assert.equal((await h.alertShown(app)).code, "auth.confirmation_failed");
    await h.type(app, "#unlock-confirmation", SV.confirmation);
    await app.$("#unlock-submit").click();
    await app.$("#unlock-results").waitForDisplayed({ timeout: 10_000 });
    const outcomes = await app.$$("#unlock-results tbody tr").map((r) => r.getAttribute("data-outcome"));
    assert.deepEqual(outcomes, ["unlocked", "unlocked"]);
    await h.shot(app, "24-unlock-results-ja");
    await app.$("#unlock-close").click();
    await app.waitUntil(async () => Number(await app.$("#users-total").getAttribute("data-total")) === 0, { timeout: 5_000 });
  });

  it("issues a temporary password from the user's detail and prints its slip", async () => {
    await app.$("#user-filter").selectByAttribute("value", "all");
    await h.type(app, "#user-search", "e2e-admin");
    const link = await app.$('.vrow[data-login-id="e2e-admin"] .c-id button');
    await link.waitForDisplayed({ timeout: 5_000 });
    await link.click();
    await app.$("#credentials").waitForDisplayed({ timeout: 10_000 });
    assert.equal(await app.$('#credentials tr[data-credential="login"]').getAttribute("data-state"), "must_change");
    await app.$("#act-passwords").click();
    await h.type(app, "#action-confirmation", SV.confirmation);
    await app.$("#action-submit").click();
    const slip = await app.$('.slip[data-login-id="e2e-admin"]');
    await slip.waitForDisplayed({ timeout: 10_000 });
    assert.match(await slip.$(".slip-customer").getText(), new RegExp(CUSTOMER));
    assert.match(await slip.getText(), /初回ログイン時に必ずパスワードを変更/);
    const password = await slip.$(".slip-login").getText();
    // Printing: the slips are marked for the print stylesheet while the print dialog is open, and
    // the document as it is then, printed, is the slip alone on one page.
    await catchPrints(app);
    await app.$("#print-slips").click();
    const prints = await printed(app);
    assert.deepEqual(prints.map((p) => p.marked), [true]);
    const pdf = printToPdf(prints[0].html, "25b-slip-print");
    assert.equal(pdf.pages, 1);
    assert.match(pdf.text[0], /e2e-admin/);
    assert.ok(pdf.text[0].includes(password), "the printed slip carries the temporary password");
    assert.match(pdf.text[0], new RegExp(CUSTOMER));
    assert.match(pdf.text[0], /初回ログイン時に必ずパスワードを変更/);
    // Nothing of the window behind it: no menu, no buttons, no user detail.
    for (const behind of ["ダッシュボード", "印刷", "ロック解除"]) assert.ok(!pdf.text[0].includes(behind), behind);
    await h.shot(app, "25-temporary-password-slip-ja");
    await app.$("#close-slips").click();
    // Shown once: the detail never shows the password again.
    assert.equal(await app.$(".slip").isExisting(), false);
    await h.shot(app, "26-user-detail-ja");
  });

  it("adds an address and registers its S/MIME certificate from a picked file, explaining a dropped unfit one; then notices to it are signed and encrypted", async () => {
    const pki = makeCertificates();
    await app.$("#addr-new").waitForDisplayed({ timeout: 5_000 });
    await h.type(app, "#addr-new", "e2e-admin@example.co.jp");
    await h.type(app, "#addr-confirmation", SV.confirmation);
    await app.$("#addr-add").click();
    const row = await app.$('#addresses tr[data-address="e2e-admin@example.co.jp"]');
    await row.waitForDisplayed({ timeout: 10_000 });
    assert.equal(await row.getAttribute("data-cert"), "none");
    await row.$("button.addr-cert").click();
    await app.$("#cert-form").waitForDisplayed({ timeout: 5_000 });
    assert.equal(await app.$("#cert-address").getValue(), "e2e-admin@example.co.jp", "prefilled from the user");
    // Dropped: a certificate for another address is explained and cannot be registered.
    await app.execute(
      (name, text) => {
        const dt = new DataTransfer();
        dt.items.add(new File([text], name, { type: "application/x-pem-file" }));
        document.querySelector("#cert-drop").dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
      },
      "other.pem",
      readFileSync(pki.other, "utf8"),
    );
    const report = await app.$("#cert-report");
    await report.waitForDisplayed({ timeout: 10_000 });
    assert.equal(await report.getAttribute("data-acceptable"), "false");
    assert.equal(await app.$('#cert-findings li.error[data-code="cert.address_mismatch"]').isExisting(), true);
    assert.equal(await app.$("#cert-register").isExisting(), false);
    await h.shot(app, "26a-certificate-refused-ja");
    // Picked: the customer's own certificate, in a signed-mail bundle (.p7b).
    await app.$("#cert-file").setValue(pki.good);
    await app.waitUntil(async () => (await app.$("#cert-file-name").getText()) === "e2e-admin.p7b", { timeout: 10_000 });
    await app.waitUntil(async () => (await app.$("#cert-report").getAttribute("data-acceptable")) === "true", { timeout: 10_000 });
    await h.type(app, "#cert-confirmation", SV.confirmation);
    await app.$("#cert-register").click();
    await app.$("#cert-saved").waitForDisplayed({ timeout: 10_000 });
    const listed = await app.$('#certificates tr[data-address="e2e-admin@example.co.jp"]');
    await listed.waitForDisplayed({ timeout: 10_000 });
    assert.equal(await listed.getAttribute("data-status"), "registered");
    await h.shot(app, "26b-certificate-registered-ja");
    // With that certificate, notices to the address can be signed and encrypted.
    await nav(app, "users");
    await h.type(app, "#user-search", "e2e-admin");
    const link = await app.$('.vrow[data-login-id="e2e-admin"] .c-id button');
    await link.waitForDisplayed({ timeout: 5_000 });
    await link.click();
    const addressRow = await app.$('#addresses tr[data-address="e2e-admin@example.co.jp"]');
    await addressRow.waitForDisplayed({ timeout: 10_000 });
    assert.equal(await addressRow.getAttribute("data-encrypt"), "false");
    await addressRow.$("button.addr-change").click();
    await app.$("#address-edit-sign").click();
    await app.$("#address-edit-encrypt").click();
    await h.type(app, "#address-edit-confirmation", SV.confirmation);
    await h.shot(app, "26c-address-settings-ja");
    await app.$("#address-edit-submit").click();
    await app.$("#address-edit").waitForExist({ reverse: true, timeout: 10_000 });
    await app.waitUntil(async () => (await addressRow.getAttribute("data-encrypt")) === "true", { timeout: 5_000 });
    assert.equal(await addressRow.getAttribute("data-sign"), "true");
  });

  it("runs an initialization request with a second supervisor's approval, offline", async () => {
    lockByFailures(dataDir, "e2e-master");
    lockByFailures(dataDir, "e2e-admin");
    // Seed 004 asks for the paper form only when every master and admin is out for good (利用停止,
    // never released by itself); a temporary lock clears by itself. The customer's managers were
    // suspended as well, so only the branch can help.
    const suspended = cli(dataDir, ["--operator", SV.id, "user", "suspend", "e2e-master", "e2e-admin"], `${SV.password}\n${SV.confirmation}\n`);
    assert.equal(suspended.code, 0, suspended.err);
    // An operator takes the paper form at the counter.
    await app.$("#sign-out").click();
    await h.waitForScreen(app, "signed_out");
    await h.signIn(app, OP.id, OP.password);
    await h.waitForScreen(app, "active");
    await nav(app, "requests");
    await app.$("#new-request").click();
    await h.type(app, "#r-no", "R-0001");
    await h.type(app, "#r-contract", CUSTOMER);
    await h.type(app, "#r-requester", "港 一郎");
    await app.$("#r-check-seal").click();
    await app.$("#r-check-id_card").click();
    await h.type(app, "#r-confirmation", OP.confirmation);
    await app.$("#r-record").click();
    const row = await app.$('#requests tr[data-request-no="R-0001"]');
    await row.waitForDisplayed({ timeout: 10_000 });
    assert.equal(await row.getAttribute("data-state"), "recorded");
    // The recorder cannot approve their own request; the supervisor approves at the same PC.
    await row.$("button.approve").click();
    await h.type(app, "#a-id", SV.id);
    await h.type(app, "#a-confirmation", SV.confirmation);
    await app.$("#a-submit").click();
    await app.waitUntil(async () => (await row.getAttribute("data-state")) === "approved", { timeout: 10_000 });
    await h.shot(app, "27-request-approved-ja");
    await row.$("button.execute").click();
    await h.type(app, "#x-confirmation", OP.confirmation);
    await app.$("#x-submit").click();
    await app.$("#slips").waitForDisplayed({ timeout: 10_000 });
    const ids = await app.$$(".slip").map((s) => s.getAttribute("data-login-id"));
    assert.deepEqual([...ids].sort(), ["e2e-admin", "e2e-master"]);
    await h.shot(app, "28-request-slips-ja");
    // Printed, each slip is a page of its own and names the request.
    await catchPrints(app);
    await app.$("#print-slips").click();
    const pdf = printToPdf((await printed(app))[0].html, "28b-request-slips-print");
    assert.equal(pdf.pages, 2);
    assert.deepEqual(
      pdf.text.map((page) => ["e2e-admin", "e2e-master"].filter((id) => page.includes(id))),
      ids.map((id) => [id]),
    );
    for (const page of pdf.text) assert.match(page, /R-0001/);
    await app.$("#close-slips").click();
    await app.waitUntil(async () => (await row.getAttribute("data-state")) === "executed", { timeout: 10_000 });
    // Both can act again: the authentication path no longer answers "locked".
    const r = cli(dataDir, ["auth", "verify", "e2e-master", "--channel", "api"], "wrong-password-123\n");
    assert.equal(r.code, 3);
  });

  it("edits the IP rules with the engine's warnings, and a supervisor forces a release that the server's path sees", async () => {
    await app.$("#sign-out").click();
    await h.waitForScreen(app, "signed_out");
    await h.signIn(app, SV.id, SV.password);
    await h.waitForScreen(app, "active");
    await nav(app, "customers");
    await app.$(`tr[data-contract-no="${CUSTOMER}"] button`).click();
    await app.$("#ip-rules").waitForDisplayed({ timeout: 10_000 });
    await app.$("#ip-service").selectByAttribute("value", "user_web");
    // A rule inside an earlier one is pointed out while typing; nothing is saved yet.
    await h.type(app, "#ip-rules", "allow 203.0.113.0/24");
    await app.keys("Enter"); // WebKitWebDriver drops a "\n" sent as text
    await app.$("#ip-rules").addValue("allow 203.0.113.128/25");
    await app.waitUntil(async () => /規則2は規則1に含まれる/.test(await app.$("#ip-warnings").getText()), {
      timeout: 5_000,
      timeoutMsg: "no live warning for the shadowed rule",
    });
    // A read through the CLI is branch staff's, as in the window: the supervisor with their login password.
    const check = (ip) =>
      cli(dataDir, ["--operator", SV.id, "ip", "check", ip, "--tenant", CUSTOMER, "--service", "user_web"], `${SV.password}\n`).code;
    assert.equal(check("198.51.100.7"), 0, "nothing saved while typing");
    await h.type(app, "#ip-rules", "allow 203.0.113.0/24");
    await app.$("#ip-default").selectByIndex(1);
    await h.type(app, "#ip-confirmation", SV.confirmation);
    await app.$("#ip-save").click();
    // The window and the CLI (the server's path, on the same database) now deny other addresses.
    await app.waitUntil(async () => check("198.51.100.7") === 5, { timeout: 10_000, timeoutMsg: "the rules were not saved" });
    assert.equal(check("203.0.113.9"), 0);
    await h.type(app, "#ip-check", "198.51.100.7");
    await app.$("#ip-check-submit").click();
    await app.waitUntil(async () => (await app.$("#ip-check-result").getAttribute("data-allowed")) === "false", { timeout: 5_000 });
    // The customer's administrators are shut out: a supervisor releases the restrictions for 30 minutes.
    await h.type(app, "#ip-release-minutes", "30");
    await h.type(app, "#ip-release-reason", "管理者の事務所移転でIPアドレスが変わったため");
    await h.type(app, "#ip-release-confirmation", SV.confirmation);
    await app.$("#ip-release-submit").click();
    await app.$("#ip-released").waitForDisplayed({ timeout: 10_000 });
    assert.equal(check("198.51.100.7"), 0, "released for the server's path too");
    await app.$("#ip-check-submit").click();
    await app.waitUntil(async () => (await app.$("#ip-check-result").getAttribute("data-allowed")) === "true", { timeout: 5_000 });
    assert.match(await h.text(app, "#ip-check-result"), /スーパーバイザーによる強制解除中/);
    await h.shot(app, "28c-ip-release-ja");
  });

  it("imports a real IP-to-country data set; a Biz Mail customer is Japan-only from the start and its unused services are closed", () => {
    // The maintained data set from the npm registry (ip-location-db geo-whois-asn-country, CC0;
    // NRO data CC BY 4.0): first,last,country lines for IPv4 and IPv6.
    const data = join(dirname(fileURLToPath(import.meta.url)), "..", "node_modules", "@ip-location-db", "geo-whois-asn-country");
    const files = ["geo-whois-asn-country-ipv4.csv", "geo-whois-asn-country-ipv6.csv"].map((f) => join(data, f));
    const imported = cli(dataDir, ["--operator", SV.id, "--json", "ip", "countries", ...files], `${SV.password}\n${SV.confirmation}\n`);
    assert.equal(imported.code, 0, imported.err);
    assert.ok(JSON.parse(imported.out).ranges > 300_000, imported.out);
    // The demo's Kitahama (K-1002) is on the Biz Mail preset (seed 003): 「海外IPアドレスからの
    // アクセスを拒否する設定」 on every service it uses, and 「利用しない機能/ポート」 denied.
    const check = (ip, service) =>
      cli(dataDir, ["--operator", SV.id, "ip", "check", ip, "--tenant", "K-1002", "--service", service], `${SV.password}\n`).code;
    assert.equal(check("133.1.1.1", "user_web"), 0, "an address in Japan");
    assert.equal(check("8.8.8.8", "user_web"), 5, "an address in the United States");
    assert.equal(check("133.1.1.1", "admin_console"), 5, "a service Kitahama does not use");
  });

  it("checks the audit chain and exports the log as CSV", async () => {
    await nav(app, "audit");
    await app.$("#verify-chain").click();
    const status = await app.$("#chain-status");
    await status.waitForDisplayed({ timeout: 10_000 });
    assert.equal(await status.getAttribute("data-intact"), "true");
    await h.type(app, "#audit-text", "e2e-master");
    await app.$("#audit-go").click();
    await app.waitUntil(async () => (await app.$$("#audit tbody tr").length) > 0, { timeout: 5_000 });
    // The log leaves the PC: confirmed, recorded, and a signed checkpoint beside the file.
    await app.$("#export-csv").click();
    await h.type(app, "#export-confirmation", SV.confirmation);
    await app.$("#export-submit").click();
    const done = await app.$("#export-status");
    await done.waitForDisplayed({ timeout: 10_000 });
    const path = await done.getAttribute("data-path");
    assert.ok(path.startsWith(exportDir), path);
    const files = readdirSync(exportDir).filter((f) => f.endsWith(".csv"));
    assert.equal(files.length, 1);
    const checkpoint = JSON.parse(readFileSync(join(exportDir, `${files[0]}.checkpoint.json`), "utf8"));
    assert.ok(checkpoint.seq > 0 && checkpoint.signature.length > 40, JSON.stringify(checkpoint));
    const csv = readFileSync(join(exportDir, files[0]), "utf8");
    assert.ok(csv.startsWith("\ufeff番号,日時,操作者,種類"), csv.slice(0, 40));
    // The export holds what the search shows: the entries about e2e-master, and only those.
    const lines = csv.trim().split("\n").slice(1);
    const shown = await app.$$("#audit tbody tr").length;
    assert.ok(lines.length >= 10, `${lines.length} lines`);
    assert.equal(lines.length, shown, "one CSV line per entry on the screen");
    const others = lines.filter((l) => !l.includes("e2e-master")).map((l) => l.split(",")[3]);
    assert.deepEqual(others, ["init_request_recorded"], "besides the user's own entries, only the request that lists them");
    assert.match(csv, /,user_unlocked,/);
    assert.match(csv, /,password_set,desktop,e2e-master の確認用パスワードを設定：初期化依頼による再発行/);
    assert.doesNotMatch(csv, /argon2/, "no hashes in the export");
    await h.shot(app, "29-audit-ja");
  });

  it("shows every screen in Japanese and English", async () => {
    for (const lang of ["ja", "en"]) {
      await app.$(`#lang-${lang}`).click();
      await app.waitUntil(async () => (await app.$("html").getAttribute("lang")) === lang, { timeout: 5_000 });
      for (const [i, screen] of ["dashboard", "customers", "users", "requests", "certificates", "audit", "settings"].entries()) {
        await nav(app, screen);
        await app.pause(300);
        await h.shot(app, `3${i}-${screen}-${lang}`);
      }
    }
    assert.equal(await h.text(app, "#settings-title"), "Settings");
  });
});
