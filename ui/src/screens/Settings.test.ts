// The idle lock on the settings screen: a supervisor's setting, saved with their confirmation
// password (issue 12); an operator sees the time in force and who may change it.
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, waitFor } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import Settings from "./Settings.svelte";
import { i18n } from "../lib/i18n.svelte";
import { signedInStatus } from "../lib/test-status";

i18n.lang = "en";

afterEach(() => {
  cleanup();
  clearMocks();
});

function ipc(calls: Array<[string, unknown]>, role: "supervisor" | "operator") {
  mockIPC((cmd, args) => {
    calls.push([cmd, args]);
    if (cmd === "check_operator_password") return [];
    if (cmd === "staff") return { operators: [], expiry_days: 0 };
    if (cmd === "status") return signedInStatus(role);
    if (cmd === "set_idle_lock_minutes") return { ...signedInStatus(role), idle_lock_minutes: 7, idle_lock_seconds: 420 };
    throw new Error(`unexpected ${cmd}`);
  });
}

describe("Settings", () => {
  it("saves a supervisor's idle lock with the confirmation password, which it then empties", async () => {
    const calls: Array<[string, unknown]> = [];
    ipc(calls, "supervisor");
    let shown = 0;
    render(Settings, { status: signedInStatus("supervisor"), onstatus: (s) => (shown = s.idle_lock_seconds) });
    const minutes = document.querySelector<HTMLInputElement>("#idle-minutes")!;
    await fireEvent.input(minutes, { target: { value: "7" } });
    await fireEvent.input(document.querySelector("#idle-confirmation")!, { target: { value: "my-confirmation" } });
    await fireEvent.click(document.querySelector("#save-settings")!);
    await waitFor(() => expect(shown).toBe(420));
    expect(calls.filter(([c]) => c === "set_idle_lock_minutes")).toEqual([
      ["set_idle_lock_minutes", { minutes: 7, confirmation: "my-confirmation" }],
    ]);
    expect(document.querySelector<HTMLInputElement>("#idle-confirmation")!.value).toBe("");
  });

  it("shows an operator the idle lock in force but no way to change it", async () => {
    const calls: Array<[string, unknown]> = [];
    ipc(calls, "operator");
    render(Settings, { status: signedInStatus("operator"), onstatus: () => {} });
    expect(document.querySelector("#settings-form")).toBeNull();
    expect(document.querySelector("#idle-minutes")).toBeNull();
    expect(document.querySelector("#idle-now")?.textContent).toMatch(/10 min/);
    expect(document.querySelector("#idle-confirmation")).toBeNull();
    expect(document.querySelector("#save-settings")).toBeNull();
    expect(document.querySelector("#idle-supervisor-only")?.textContent).toMatch(/supervisor/);
  });
});
