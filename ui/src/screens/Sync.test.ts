// The sync screen (issue 14): a supervisor enrols the PC with the server address, the one-time
// code and their confirmation password (emptied after); the review list shows each decided op
// with its reason and next step, and marking one as dealt with asks the console.
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, waitFor } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import Sync from "./Sync.svelte";
import { i18n } from "../lib/i18n.svelte";
import { signedInStatus } from "../lib/test-status";

i18n.lang = "en";

afterEach(() => {
  cleanup();
  clearMocks();
});

const notEnrolled = {
  state: "not_enrolled",
  state_label: "Not enrolled (this PC only)",
  server_url: null,
  branch: null,
  device_id: null,
  waiting: 0,
  to_review: 0,
  last_sync_at: null,
  last_error: null,
  last_round: null,
  pushed: 0,
  pulled: 0,
};

const row = (seq: number, done: boolean) => ({
  device_seq: seq,
  what: "Unlocked minato-sato (sync: 2 later failures still count)",
  customer: "k-1001",
  operator: "op:sv001",
  acted_at: 1_800_000_000_000,
  outcome: "applied",
  outcome_label: "Applied",
  reason: "Unlocked. 2 wrong passwords recorded online meanwhile still count.",
  next_step: "Nothing to do; check the current state.",
  decided_at: 1_800_000_060_000,
  done,
});

describe("Sync", () => {
  it("enrols the PC with the code and the supervisor's confirmation, then shows the state", async () => {
    const calls: Array<[string, unknown]> = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      if (cmd === "sync_view") return notEnrolled;
      if (cmd === "sync_review") return [];
      if (cmd === "enrol_sync")
        return { ...notEnrolled, state: "syncing", state_label: "Syncing", server_url: "https://kagiya.example.jp", branch: "minato", device_id: "dev-1" };
      throw new Error(`unexpected ${cmd}`);
    });
    render(Sync, { status: signedInStatus("supervisor") });
    await fireEvent.input(document.querySelector("#sync-server")!, { target: { value: "https://kagiya.example.jp" } });
    await fireEvent.input(document.querySelector("#sync-code")!, { target: { value: "ABCDE-FGHJK-MNPQR" } });
    await fireEvent.input(document.querySelector("#sync-confirmation")!, { target: { value: "my-confirmation" } });
    await fireEvent.click(document.querySelector("#sync-enrol")!);
    await waitFor(() => expect(document.querySelector("#sync-enrolled")?.textContent).toMatch(/dev-1 of branch minato/));
    expect(calls.filter(([c]) => c === "enrol_sync")).toEqual([
      ["enrol_sync", { serverUrl: "https://kagiya.example.jp", caFile: null, code: "ABCDE-FGHJK-MNPQR", confirmation: "my-confirmation" }],
    ]);
    expect(document.querySelector<HTMLInputElement>("#sync-confirmation")!.value).toBe("");
    expect(document.querySelector<HTMLInputElement>("#sync-code")!.value).toBe("");
  });

  it("lets only a supervisor enrol", async () => {
    mockIPC((cmd) => (cmd === "sync_view" ? notEnrolled : cmd === "sync_review" ? [] : null));
    render(Sync, { status: signedInStatus("operator") });
    expect(document.querySelector("#sync-enrol-form")).toBeNull();
    expect(document.querySelector("#sync-supervisor-only")?.textContent).toMatch(/supervisor/);
  });

  it("lists the ops to review with reason and next step, and marks one as dealt with", async () => {
    const calls: string[] = [];
    mockIPC((cmd) => {
      calls.push(cmd);
      if (cmd === "sync_view") return { ...notEnrolled, state: "online", to_review: 1 };
      if (cmd === "sync_review") return [row(7, false)];
      if (cmd === "sync_review_done") return [row(7, true)];
      throw new Error(`unexpected ${cmd}`);
    });
    render(Sync, { status: signedInStatus("operator") });
    await waitFor(() => expect(document.querySelector("#sync-review tr[data-seq='7']")).not.toBeNull());
    const tr = document.querySelector("#sync-review tr[data-seq='7']")!;
    expect(tr.textContent).toMatch(/still count/);
    expect(tr.textContent).toMatch(/Nothing to do/);
    await fireEvent.click(tr.querySelector("button")!);
    await waitFor(() => expect(document.querySelector("#sync-review tr.done")).not.toBeNull());
    expect(calls).toContain("sync_review_done");
  });
});
