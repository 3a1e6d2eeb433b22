// Initialization requests: the approval is made by a second supervisor with their own ID and
// confirmation password, and executing shows the slips the console returns.
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import Requests from "./Requests.svelte";
import { signedInStatus } from "../lib/test-status";
import { i18n } from "../lib/i18n.svelte";

i18n.lang = "en";

const status = signedInStatus("operator");

function request(state: string) {
  return {
    request_no: "R-1",
    contract_no: "K-1001",
    customer_name: "Minato Trading",
    received_on: "2026-11-23",
    requester: "Ichiro Minato",
    identity_checks: ["seal"],
    targets: ["minato-master"],
    recorded_by: "op101",
    recorded_at: 0,
    state,
    state_label: state,
    approved_by: state === "recorded" ? null : "sv001",
    decided_at: null,
    executed_at: null,
  };
}

afterEach(() => {
  cleanup();
  clearMocks();
});

describe("Requests", () => {
  it("approves with the second supervisor's credentials and executes into slips", async () => {
    let state = "recorded";
    const decided: Record<string, unknown>[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "init_requests") return [request(state)];
      if (cmd === "decide_init_request") {
        decided.push(args as Record<string, unknown>);
        state = "approved";
        return request(state);
      }
      if (cmd === "execute_init_request") {
        state = "executed";
        return [
          {
            contract_no: "K-1001",
            customer_name: "Minato Trading",
            login_id: "minato-master",
            name: "Ichiro Minato",
            login_password: "Temp0001abcd",
            confirmation_password: "Temp0002efgh",
            must_change: true,
            issued_at: 0,
            issued_by: "Ken Sato (op101)",
            request_no: "R-1",
          },
        ];
      }
      throw new Error(`unexpected ${cmd}`);
    });
    render(Requests, { status, contractNo: null });
    await fireEvent.click(await screen.findByRole("button", { name: /Approve/ }));
    await fireEvent.input(screen.getByLabelText("Approving supervisor's operator ID"), { target: { value: "sv001" } });
    await fireEvent.input(screen.getByLabelText("Approver's confirmation password"), { target: { value: "sv-conf" } });
    await fireEvent.click(screen.getByRole("button", { name: "Approve" }));
    await waitFor(() => expect(document.querySelector('tr[data-request-no="R-1"]')?.getAttribute("data-state")).toBe("approved"));
    expect(decided[0]).toEqual({ requestNo: "R-1", supervisorId: "sv001", supervisorConfirmation: "sv-conf", rejectReason: null });
    await fireEvent.click(screen.getByRole("button", { name: "Run and issue temporary passwords" }));
    await fireEvent.input(screen.getByLabelText("Your own confirmation password"), { target: { value: "op-conf" } });
    await fireEvent.click(screen.getByRole("button", { name: "Run" }));
    const slip = await waitFor(() => {
      const el = document.querySelector('.slip[data-login-id="minato-master"]');
      expect(el).not.toBeNull();
      return el!;
    });
    expect(slip.querySelector(".slip-login")?.textContent).toBe("Temp0001abcd");
  });
});
