// Branch staff on the settings screen: a supervisor disables an operator and issues temporary
// passwords (shown once) with the confirmation password; an operator sees only their own form.
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, waitFor } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import StaffCard from "./StaffCard.svelte";
import type { StaffView } from "../lib/api";
import { i18n } from "../lib/i18n.svelte";
import { signedInStatus } from "../lib/test-status";

i18n.lang = "en";

afterEach(() => {
  cleanup();
  clearMocks();
});

const staff = (disabled: boolean): StaffView => ({
  operators: [
    { operator_id: "sv001", name: "Yamada Hanako", role: "supervisor", disabled: false, locked_until: null, must_change: false, password_set_at: 0, last_sign_in_at: null, me: true },
    { operator_id: "op101", name: "Counter Ichiro", role: "operator", disabled, locked_until: null, must_change: false, password_set_at: 0, last_sign_in_at: null, me: false },
  ],
  expiry_days: 0,
});

describe("StaffCard", () => {
  it("lets a supervisor disable an operator and issue temporary passwords, confirmed", async () => {
    const calls: Array<[string, unknown]> = [];
    let disabled = false;
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      if (cmd === "staff") return staff(disabled);
      if (cmd === "set_operator_disabled") {
        disabled = (args as { disabled: boolean }).disabled;
        return staff(disabled);
      }
      if (cmd === "reset_operator_passwords") return { operator_id: "op101", login_password: "Tmp-Login-1234", confirmation_password: "Tmp-Conf-5678" };
      throw new Error(`unexpected ${cmd}`);
    });
    render(StaffCard, { status: signedInStatus("supervisor") });
    await waitFor(() => expect(document.querySelector('#staff tr[data-operator-id="op101"]')).not.toBeNull());
    // No actions on oneself.
    expect(document.querySelector('#staff tr[data-operator-id="sv001"] .op-toggle')).toBeNull();
    await fireEvent.click(document.querySelector('#staff tr[data-operator-id="op101"] .op-toggle')!);
    await fireEvent.input(document.querySelector("#staff-confirmation")!, { target: { value: "my-confirmation" } });
    await fireEvent.click(document.querySelector("#staff-submit")!);
    await waitFor(() => expect(document.querySelector('#staff tr[data-operator-id="op101"]')?.getAttribute("data-disabled")).toBe("true"));
    await fireEvent.click(document.querySelector('#staff tr[data-operator-id="op101"] .op-reset')!);
    await fireEvent.input(document.querySelector("#staff-confirmation")!, { target: { value: "my-confirmation" } });
    await fireEvent.click(document.querySelector("#staff-submit")!);
    await waitFor(() => expect(document.querySelector("#slip-login")?.textContent).toBe("Tmp-Login-1234"));
    expect(calls.filter(([c]) => c !== "staff")).toEqual([
      ["set_operator_disabled", { operatorId: "op101", disabled: true, confirmation: "my-confirmation" }],
      ["reset_operator_passwords", { operatorId: "op101", confirmation: "my-confirmation" }],
    ]);
    await fireEvent.click(document.querySelector("#operator-slip-close")!);
    expect(document.querySelector("#slip-login")).toBeNull();
  });

  it("shows an operator only their own passwords form, and says when a change is due", async () => {
    const sent: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "change_own_operator_passwords") {
        sent.push(args);
        return null;
      }
      throw new Error(`unexpected ${cmd}`);
    });
    render(StaffCard, { status: { ...signedInStatus("operator"), password_change_due: true } });
    expect(document.querySelector("#staff")).toBeNull();
    expect(document.querySelector("#own-pw-due")).not.toBeNull();
    await fireEvent.input(document.querySelector("#own-current")!, { target: { value: "Tmp-Login-1234" } });
    await fireEvent.input(document.querySelector("#own-login")!, { target: { value: "My-New-Login-2026" } });
    await fireEvent.click(document.querySelector("#own-pw-submit")!);
    await waitFor(() => expect(document.querySelector("#own-pw-done")).not.toBeNull());
    expect(sent).toEqual([{ currentLogin: "Tmp-Login-1234", newLogin: "My-New-Login-2026", newConfirmation: null }]);
  });
});
