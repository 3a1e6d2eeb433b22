// A customer's IP rules: the engine's warnings appear while the rules are typed (nothing saved),
// an address check shows the console's decision and its reason, and a supervisor can force a
// release of the restrictions for a while.
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import Customer from "./Customer.svelte";
import { signedInStatus } from "../lib/test-status";
import { i18n } from "../lib/i18n.svelte";

i18n.lang = "en";

const status = signedInStatus("supervisor");

const policy = (credential: string) => ({
  credential,
  rules: [{ code: "password.length", label: "8 to 12 characters", ok: false }],
  expiry_days: 90,
  warn_days: 14,
  history: 3,
  lock_threshold: 5,
  lock_window_minutes: 30,
  lock_minutes: 30,
  permanent_after: 3,
});

const detail = {
  customer: { contract_no: "K-1001", name: "Minato Trading", services: ["User web"], preset_title: "Business Web", users: 4, needs_init_request: false, managers_back_at: null },
  preset: "business_web",
  policies: [policy("login"), policy("confirmation")],
  ip_rules: [{ service: "user_web", service_label: "User web", lines: [], default_allow: true, allowed_countries: null }],
  ip_released_until: null,
};

afterEach(() => {
  cleanup();
  clearMocks();
});

describe("Customer", () => {
  it("shows the engine's warnings while the rules are typed, and checks an address", async () => {
    const warned: Array<{ lines: string[] }> = [];
    mockIPC((cmd, args) => {
      if (cmd === "customer") return detail;
      if (cmd === "choices") return { presets: [{ code: "business_web", label: "Business Web" }], services: [], roles: [], password_expiry_days: 14, ip_release_max_minutes: 1440 };
      if (cmd === "ip_rule_warnings") {
        const form = (args as { form: { lines: string[] } }).form;
        warned.push(form);
        return form.lines.length > 1 ? ["Rule 2 can never decide: rule 1 contains it."] : [];
      }
      if (cmd === "check_ip") return { allowed: false, reason: "rule 1 (192.0.2.0/24)" };
      throw new Error(`unexpected ${cmd}`);
    });
    render(Customer, { status, contractNo: "K-1001" });
    const rules = await screen.findByRole("textbox", { name: "IP access rules" });
    await fireEvent.input(rules, { target: { value: "deny 192.0.2.0/24\ndeny 192.0.2.128/25" } });
    await screen.findByText("Rule 2 can never decide: rule 1 contains it.");
    expect(warned.at(-1)?.lines).toEqual(["deny 192.0.2.0/24", "deny 192.0.2.128/25"]);
    await fireEvent.input(screen.getByLabelText("IP address"), { target: { value: "192.0.2.7" } });
    await fireEvent.click(screen.getByRole("button", { name: "Check an address" }));
    await waitFor(() => expect(document.querySelector("#ip-check-result")?.getAttribute("data-allowed")).toBe("false"));
    expect(document.querySelector("#ip-check-result")?.textContent).toContain("rule 1 (192.0.2.0/24)");
  });

  it("lets a supervisor force a release of the IP restrictions, showing the console's refusal first", async () => {
    const sent: Array<{ minutes: number; reason: string; confirmation: string }> = [];
    const until = Date.UTC(2026, 10, 23, 12, 30);
    mockIPC((cmd, args) => {
      if (cmd === "customer") return detail;
      if (cmd === "choices") return { presets: [], services: [], roles: [], password_expiry_days: 14, ip_release_max_minutes: 1440 };
      if (cmd === "release_ip_restrictions") {
        const a = args as { contractNo: string; minutes: number; reason: string; confirmation: string };
        expect(a.contractNo).toBe("K-1001");
        sent.push({ minutes: a.minutes, reason: a.reason, confirmation: a.confirmation });
        if (a.minutes > 1440) throw { code: "input.invalid", kind: "invalid", message: "The value of minutes is not valid." };
        return { ...detail, ip_released_until: until };
      }
      throw new Error(`unexpected ${cmd}`);
    });
    render(Customer, { status, contractNo: "K-1001" });
    const minutes = await screen.findByLabelText("Release for (minutes, at most 1440)");
    await fireEvent.input(minutes, { target: { value: "2000" } });
    await fireEvent.input(screen.getByLabelText("Reason"), { target: { value: "The admins' office moved" } });
    const confirmation = () => document.querySelector<HTMLInputElement>("#ip-release-confirmation")!;
    await fireEvent.input(confirmation(), { target: { value: "my-confirmation" } });
    await fireEvent.click(screen.getByRole("button", { name: "Release" }));
    expect((await screen.findByRole("alert")).getAttribute("data-code")).toBe("input.invalid");
    expect(document.querySelector("#ip-released")).toBeNull();
    await waitFor(() => expect(confirmation().value).toBe(""));

    await fireEvent.input(minutes, { target: { value: "90" } });
    await fireEvent.input(confirmation(), { target: { value: "my-confirmation" } });
    await fireEvent.click(screen.getByRole("button", { name: "Release" }));
    await waitFor(() => expect(document.querySelector("#ip-released")).not.toBeNull());
    expect(document.querySelector("#ip-released")?.textContent).toContain("IP restrictions released by a supervisor until");
    expect(sent).toEqual([
      { minutes: 2000, reason: "The admins' office moved", confirmation: "my-confirmation" },
      { minutes: 90, reason: "The admins' office moved", confirmation: "my-confirmation" },
    ]);
  });

  it("offers no forced release to an operator", async () => {
    mockIPC((cmd) => {
      if (cmd === "customer") return detail;
      if (cmd === "choices") return { presets: [], services: [], roles: [], password_expiry_days: 14, ip_release_max_minutes: 1440 };
      throw new Error(`unexpected ${cmd}`);
    });
    render(Customer, { status: signedInStatus("operator"), contractNo: "K-1001" });
    await screen.findByRole("textbox", { name: "IP access rules" });
    expect(document.querySelector("#ip-release-form")).toBeNull();
  });
});
