// The dashboard shows the console's counts and opens the list behind each one.
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, waitFor } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import Dashboard from "./Dashboard.svelte";
import { signedInStatus } from "../lib/test-status";
import { i18n } from "../lib/i18n.svelte";
import { nav } from "../lib/nav.svelte";

i18n.lang = "en";

const status = signedInStatus("supervisor");

afterEach(() => {
  cleanup();
  clearMocks();
});

describe("Dashboard", () => {
  it("shows the counts and the chart, and drills down to the locked users", async () => {
    let offset: number | undefined;
    mockIPC((cmd, args) => {
      if (cmd === "dashboard") {
        offset = (args as { utcOffsetMinutes: number }).utcOffsetMinutes;
        return {
          customers: 3,
          users: 11,
          locks: { login_temporary: 2, login_permanent: 1, confirmation_temporary: 0, confirmation_permanent: 0 },
          customers_needing_request: [{ contract_no: "K-1001", name: "Minato Trading" }],
          customers_waiting: [{ contract_no: "K-1002", name: "Kitahama Seiki", back_at: Date.UTC(2026, 10, 29, 6, 30) }],
          locked_operators: [{ operator_id: "op001", name: "Counter Ichiro", until: Date.UTC(2026, 10, 29, 7, 0) }],
          passwords_expiring: 4,
          certificates_expiring: 0,
          certificates_expired: 0,
          requests_to_approve: 1,
          requests_to_execute: 0,
          lockouts_per_day: Array.from({ length: 30 }, (_, i) => ({ day: `2026-11-${String(i + 1).padStart(2, "0")}`, count: i === 29 ? 4 : 0 })),
          password_expiry_days: 21,
          certificate_expiry_days: 45,
        };
      }
      if (cmd === "recent_events") return [];
      throw new Error(`unexpected ${cmd}`);
    });
    render(Dashboard, { status });
    await waitFor(() => expect(document.querySelector("#tile-login-temporary")?.getAttribute("data-count")).toBe("2"));
    expect(offset).toBe(-new Date().getTimezoneOffset());
    expect(document.querySelector("#tile-login-permanent")?.textContent).toContain("1");
    expect(document.querySelector('#need-request li[data-contract-no="K-1001"]')?.textContent).toContain("Minato Trading");
    // A customer whose managers are only temporarily locked is listed apart, with the release time.
    const waiting = document.querySelector('#managers-waiting li[data-contract-no="K-1002"]');
    expect(waiting?.textContent).toContain("Kitahama Seiki");
    expect(waiting?.textContent).toContain("Temporarily locked (released at");
    expect(document.querySelector('#need-request li[data-contract-no="K-1002"]')).toBeNull();
    // A supervisor sees branch staff locked by wrong passwords (someone guessing at a PC?).
    expect(document.querySelector('#locked-operators li[data-operator-id="op001"]')?.textContent).toContain("Counter Ichiro");
    expect(document.querySelectorAll("#lockout-chart rect.bar").length).toBe(30);
    expect(document.querySelector("#lockout-chart rect.bar:last-of-type")?.getAttribute("data-count")).toBe("4");
    // The same figures as a table for screen readers.
    expect(document.querySelectorAll("#lockout-chart table tbody tr").length).toBe(30);
    // The windows in the labels are the console's, not copies in the UI's words.
    expect(document.querySelector("#tile-password-expiring .tile-label")?.textContent).toBe("Passwords expiring within 21 days");
    expect(document.querySelector("#tile-cert-expiring .tile-label")?.textContent).toBe("Certificates expiring within 45 days");
    expect(document.querySelector("#chart-title")?.textContent).toBe("Lockouts per day (last 30 days)");
    await fireEvent.click(document.querySelector("#tile-login-temporary")!);
    expect(nav.place).toEqual({ screen: "users", filter: "locked" });
  });
});
