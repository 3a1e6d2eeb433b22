// The first-run screen against a mocked IPC boundary: it shows the console's checklist and the
// console's refusals; it decides nothing itself.
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import Setup from "./Setup.svelte";
import type { Status } from "../lib/api";
import { i18n } from "../lib/i18n.svelte";

// The app sets the language from the status; these tests read the English labels.
i18n.lang = "en";

const status: Status = {
  needs_setup: true,
  lang: "en",
  session: { state: "signed_out", operator: null },
  idle_lock_minutes: 10,
  idle_lock_seconds: 600,
  theme: "system",
  operator_password_rules: [{ code: "password.length", label: "12 to 64 characters", ok: false }],
  password_change_due: false,
  demo: false,
};

afterEach(() => {
  cleanup();
  clearMocks();
});

describe("Setup", () => {
  it("shows the rules the console reports for what is typed", async () => {
    const calls: Array<Record<string, unknown>> = [];
    mockIPC((cmd, args) => {
      if (cmd === "check_operator_password") {
        const a = args as { password: string };
        calls.push(a as Record<string, unknown>);
        return [{ code: "password.length", label: "12 to 64 characters", ok: a.password.length >= 12 }];
      }
      throw new Error(`unexpected ${cmd}`);
    });
    render(Setup, { status, onstatus: () => {} });
    const rule = () => document.querySelector('#login-rules [data-rule="password.length"]');
    expect(rule()?.getAttribute("data-ok")).toBe("false");
    await fireEvent.input(screen.getByLabelText("Login password"), { target: { value: "Long-enough-2026" } });
    await waitFor(() => expect(rule()?.getAttribute("data-ok")).toBe("true"));
    expect(calls.at(-1)).toMatchObject({ password: "", loginPassword: "Long-enough-2026" });
  });

  it("shows the console's refusal as {code, message} and keeps the form", async () => {
    mockIPC((cmd) => {
      if (cmd === "create_first_supervisor") {
        throw { code: "operator.id_invalid", kind: "invalid", message: "Operator ID must be 3 to 32 characters." };
      }
      return [];
    });
    let changed = false;
    render(Setup, { status, onstatus: () => (changed = true) });
    await fireEvent.input(screen.getByLabelText("Operator ID"), { target: { value: "a b" } });
    await fireEvent.click(screen.getByRole("button", { name: /Register/ }));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("Operator ID must be 3 to 32 characters.");
    expect(alert.getAttribute("data-code")).toBe("operator.id_invalid");
    expect((screen.getByLabelText("Operator ID") as HTMLInputElement).value).toBe("a b");
    expect(changed).toBe(false);
  });
});
