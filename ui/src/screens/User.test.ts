// A user's addresses: the change dialog sends the flags or the deletion with the operator's
// confirmation password, shows the console's refusal in place, and the table shows what the
// console answers.
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import User from "./User.svelte";
import type { AddressView, CredentialView, UserDetail } from "../lib/api";
import { i18n } from "../lib/i18n.svelte";

i18n.lang = "en";

const credential = (kind: "login" | "confirmation"): CredentialView => ({
  kind,
  state: { state: "available", failures: 0, expires_soon: null },
  label: "Available",
  failures: 0,
  last_failure_at: null,
  locked_until: null,
  temporary_locks: 0,
  set_at: Date.UTC(2026, 10, 1),
  expires_at: null,
  expired: false,
  must_change: false,
  temporary: false,
});

const address = (addr: string, over: Partial<AddressView> = {}): AddressView => ({
  address: addr,
  purposes: ["notifications"],
  verified: true,
  sign: false,
  encrypt: false,
  certificate: { status: "none" },
  certificate_subject: null,
  certificate_not_after: null,
  replaced_certificates: 0,
  pending_change: null,
  password: { state: "none" },
  ...over,
});

const detail = (addresses: AddressView[]): UserDetail => ({
  user: {
    login_id: "hanako",
    contract_no: "K-1001",
    name: "Minato Hanako",
    role: "Admin",
    role_code: "admin",
    status: "active",
    service_state: "Available",
    email: "hanako@example.co.jp",
    mfa: false,
    login: credential("login"),
    confirmation: credential("confirmation"),
    affected_services: [],
  },
  customer_name: "Minato Trading",
  addresses,
  events: [],
});

afterEach(() => {
  cleanup();
  clearMocks();
});

const row = (addr: string) => document.querySelector<HTMLTableRowElement>(`#addresses tr[data-address="${addr}"]`);

describe("User addresses", () => {
  it("sets the flags after a refusal, then deletes an address, with the confirmation password", async () => {
    const calls: Array<[string, Record<string, unknown>]> = [];
    let list = [address("reset@example.co.jp", { purposes: ["reset"] }), address("news@example.co.jp")];
    mockIPC((cmd, args) => {
      const a = args as Record<string, unknown>;
      if (cmd === "user_detail") return detail(list);
      if (cmd === "set_address_flags") {
        calls.push([cmd, a]);
        if (a.encrypt) throw { code: "email.refused", kind: "invalid", message: "Not possible: encryption needs a valid certificate. Nothing was changed." };
        list = list.map((x) => (x.address === a.address ? { ...x, sign: a.sign as boolean, encrypt: false } : x));
        return list;
      }
      if (cmd === "delete_address") {
        calls.push([cmd, a]);
        list = list.filter((x) => x.address !== a.address);
        return list;
      }
      throw new Error(`unexpected ${cmd}`);
    });
    render(User, { loginId: "hanako" });
    await waitFor(() => expect(row("news@example.co.jp")).not.toBeNull());

    await fireEvent.click(within(row("news@example.co.jp")!).getByRole("button", { name: /Change/ }));
    const dialog = await screen.findByRole("dialog", { name: "E-mail address settings" });
    await fireEvent.click(within(dialog).getByLabelText("Sign"));
    await fireEvent.click(within(dialog).getByLabelText("Encrypt"));
    const confirmation = () => document.querySelector<HTMLInputElement>("#address-edit-confirmation")!;
    await fireEvent.input(confirmation(), { target: { value: "my-confirmation" } });
    await fireEvent.click(within(dialog).getByRole("button", { name: "Save settings" }));
    expect((await within(dialog).findByRole("alert")).getAttribute("data-code")).toBe("email.refused");
    expect(row("news@example.co.jp")!.textContent).not.toContain("✓");

    await fireEvent.click(within(dialog).getByLabelText("Encrypt"));
    await fireEvent.input(confirmation(), { target: { value: "my-confirmation" } });
    await fireEvent.click(within(dialog).getByRole("button", { name: "Save settings" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(row("news@example.co.jp")!.textContent).toContain("✓");

    await fireEvent.click(within(row("news@example.co.jp")!).getByRole("button", { name: /Change/ }));
    const again = await screen.findByRole("dialog", { name: "E-mail address settings" });
    expect((within(again).getByLabelText("Sign") as HTMLInputElement).checked).toBe(true);
    await fireEvent.click(within(again).getByLabelText("Delete this address"));
    await fireEvent.input(confirmation(), { target: { value: "my-confirmation" } });
    await fireEvent.click(within(again).getByRole("button", { name: "Delete" }));
    await waitFor(() => expect(row("news@example.co.jp")).toBeNull());
    expect(row("reset@example.co.jp")).not.toBeNull();

    expect(calls).toEqual([
      ["set_address_flags", { loginId: "hanako", address: "news@example.co.jp", sign: true, encrypt: true, confirmation: "my-confirmation" }],
      ["set_address_flags", { loginId: "hanako", address: "news@example.co.jp", sign: true, encrypt: false, confirmation: "my-confirmation" }],
      ["delete_address", { loginId: "hanako", address: "news@example.co.jp", confirmation: "my-confirmation" }],
    ]);
  });
});

describe("User passwords", () => {
  it("offers and sends only the passwords the customer's service has (one outside Business Web)", async () => {
    const sent: Array<Record<string, unknown>> = [];
    const single = detail([]);
    single.user.confirmation = null;
    mockIPC((cmd, args) => {
      if (cmd === "user_detail") return single;
      if (cmd === "set_user_passwords") {
        sent.push((args as { form: Record<string, unknown> }).form);
        return { contract_no: "K-1001", customer_name: "Minato Trading", login_id: "hanako", name: "Minato Hanako", login_password: "Tmp-1234", confirmation_password: null, must_change: true, issued_at: 0, issued_by: "sv001", request_no: null };
      }
      throw new Error(`unexpected ${cmd}`);
    });
    render(User, { loginId: "hanako" });
    await waitFor(() => expect(document.querySelector("#credentials tr[data-credential='login']")).not.toBeNull());
    expect(document.querySelector("#credentials tr[data-credential='confirmation']")).toBeNull();
    await fireEvent.click(document.querySelector("#act-passwords")!);
    expect(document.querySelector("#pw-login")).not.toBeNull();
    expect(document.querySelector("#pw-confirmation")).toBeNull();
    await fireEvent.input(document.querySelector("#action-confirmation")!, { target: { value: "my-confirmation" } });
    await fireEvent.click(document.querySelector("#action-submit")!);
    await waitFor(() => expect(sent.length).toBe(1));
    expect(sent[0]?.login).toBe(true);
    expect(sent[0]?.confirmation).toBe(false);
    expect(sent[0]?.permanent_reason).toBeNull();
  });

  it("asks a reason when a given password is not to be changed at the next login (issue 12)", async () => {
    const sent: Array<Record<string, unknown>> = [];
    const single = detail([]);
    single.user.confirmation = null;
    mockIPC((cmd, args) => {
      if (cmd === "user_detail") return single;
      if (cmd === "set_user_passwords") {
        sent.push((args as { form: Record<string, unknown> }).form);
        return { contract_no: "K-1001", customer_name: "Minato Trading", login_id: "hanako", name: "Minato Hanako", login_password: null, confirmation_password: null, must_change: false, issued_at: 0, issued_by: "sv001", request_no: null };
      }
      throw new Error(`unexpected ${cmd}`);
    });
    render(User, { loginId: "hanako" });
    await waitFor(() => expect(document.querySelector("#act-passwords")).not.toBeNull());
    await fireEvent.click(document.querySelector("#act-passwords")!);
    await fireEvent.click(document.querySelector("#pw-given")!);
    expect(document.querySelector("#pw-reason")).toBeNull();
    await fireEvent.click(document.querySelector("#pw-force-login")!);
    await fireEvent.input(document.querySelector("#pw-reason")!, { target: { value: "customer's own choice" } });
    await fireEvent.input(document.querySelector("#pw-login-value")!, { target: { value: "Given-2026-x" } });
    await fireEvent.input(document.querySelector("#action-confirmation")!, { target: { value: "my-confirmation" } });
    await fireEvent.click(document.querySelector("#action-submit")!);
    await waitFor(() => expect(sent.length).toBe(1));
    expect(sent[0]?.force_login).toBe(false);
    expect(sent[0]?.permanent_reason).toBe("customer's own choice");
  });
});

describe("User two-factor authentication and address passwords", () => {
  it("shows 2FA and each added address's own password, and turns 2FA off with the confirmation password", async () => {
    const sent: Array<Record<string, unknown>> = [];
    const d = detail([
      address("otp@example.co.jp", { purposes: ["otp"] }),
      address("sales@example.co.jp", { password: { state: "awaiting_setup", until: Date.UTC(2026, 10, 30) } }),
      address("shop@example.co.jp", { password: { state: "locked", until: null } }),
    ]);
    d.user.mfa = true;
    mockIPC((cmd, args) => {
      if (cmd === "user_detail") return structuredClone(d);
      if (cmd === "disable_user_mfa") {
        sent.push(args as Record<string, unknown>);
        d.user.mfa = false;
        return true;
      }
      throw new Error(`unexpected ${cmd}`);
    });
    render(User, { loginId: "hanako" });
    await waitFor(() => expect(document.querySelector("#user-mfa")?.textContent).toBe("On"));
    expect(row("sales@example.co.jp")!.querySelector("[data-password]")!.textContent).toContain("Awaiting setup");
    const locked = row("shop@example.co.jp")!.querySelector("[data-password]")!;
    expect(locked.textContent).toBe("Locked");
    expect(locked.classList.contains("bad")).toBe(true);
    await fireEvent.click(document.querySelector("#act-mfa-off")!);
    await fireEvent.input(document.querySelector("#action-confirmation")!, { target: { value: "my-confirmation" } });
    await fireEvent.click(document.querySelector("#action-submit")!);
    await waitFor(() => expect(document.querySelector("#action-done")?.textContent).toContain("changed at the next login"));
    expect(sent).toEqual([{ loginId: "hanako", confirmation: "my-confirmation" }]);
    await waitFor(() => expect(document.querySelector("#user-mfa")?.textContent).toBe("Off"));
    expect(document.querySelector("#act-mfa-off")).toBeNull();
  });
});
