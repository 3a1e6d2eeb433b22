// The users table against a mocked IPC boundary holding 100,000 users: only the visible rows
// exist in the page, typing searches, and the bulk unlock sends the selection with the
// operator's confirmation password and shows the console's result table.
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import Users from "./Users.svelte";
import { i18n } from "../lib/i18n.svelte";

i18n.lang = "en";

interface Query {
  text: string;
  filter: string;
  offset: number;
  limit: number;
}

function row(i: number) {
  const id = `u${String(i).padStart(6, "0")}`;
  return {
    login_id: id,
    name: `User ${i}`,
    contract_no: "C-1",
    role: "General user",
    status: "active",
    service_state: i % 2 ? "Login password temporarily locked" : "Available",
    locked: i % 2 === 1,
    expired: false,
    must_change: false,
    email: `${id}@example.co.jp`,
  };
}

// The forms' choices; the users table takes its "expiring" window from them.
const choices = { presets: [], services: [], roles: [], password_expiry_days: 21, ip_release_max_minutes: 1440 };

afterEach(() => {
  cleanup();
  clearMocks();
});

describe("Users", () => {
  it("renders only the rows in view of 100,000 and searches as one types", async () => {
    const queries: Query[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "choices") return choices;
      if (cmd !== "user_page") throw new Error(`unexpected ${cmd}`);
      const q = (args as { query: Query }).query;
      queries.push(q);
      const total = q.text ? 11 : 100_000;
      const rows = [];
      for (let i = q.offset; i < Math.min(total, q.offset + q.limit); i++) rows.push(row(i));
      return { total, offset: q.offset, rows };
    });
    render(Users, { filter: "locked", contractNo: null });
    await waitFor(() => expect(document.querySelector("#users-total")?.getAttribute("data-total")).toBe("100000"));
    expect(queries[0]).toMatchObject({ filter: "locked", offset: 0, text: "" });
    await waitFor(() => expect(document.querySelector('#user-filter option[value="expiring"]')?.textContent).toBe("Expiring within 21 days"));
    const rendered = document.querySelectorAll(".vbody .vrow").length;
    expect(rendered).toBeGreaterThan(5);
    expect(rendered).toBeLessThan(60);
    await fireEvent.input(screen.getByLabelText(/Search/), { target: { value: "u0000" } });
    await waitFor(() => expect(document.querySelector("#users-total")?.getAttribute("data-total")).toBe("11"));
    expect(queries.at(-1)).toMatchObject({ text: "u0000", offset: 0 });
    expect(document.querySelectorAll(".vbody .vrow").length).toBe(11);
  });

  it("bulk unlocks the selected users with the confirmation password and shows the results", async () => {
    const unlocks: Array<{ loginIds: string[]; confirmation: string }> = [];
    mockIPC((cmd, args) => {
      if (cmd === "choices") return choices;
      if (cmd === "user_page") {
        const q = (args as { query: Query }).query;
        return { total: 3, offset: 0, rows: q.offset === 0 ? [row(0), row(1), row(2)] : [] };
      }
      if (cmd === "unlock_users") {
        const a = args as { loginIds: string[]; confirmation: string };
        unlocks.push(a);
        if (a.confirmation !== "right") throw { code: "auth.confirmation_failed", kind: "wrong_password", message: "Wrong confirmation password." };
        return {
          batch: "U1",
          rows: a.loginIds.map((id) => ({ login_id: id, name: id, role: "General user", before: "Locked", outcome: "unlocked" })),
        };
      }
      throw new Error(`unexpected ${cmd}`);
    });
    render(Users, { filter: "all", contractNo: null });
    await screen.findByLabelText("Select u000001");
    await fireEvent.click(screen.getByLabelText("Select u000001"));
    await fireEvent.click(screen.getByLabelText("Select u000002"));
    expect(screen.getByText("2 selected")).toBeTruthy();
    await fireEvent.click(screen.getByRole("button", { name: "Unlock the selected users" }));
    const field = screen.getByLabelText("Your own confirmation password");
    await fireEvent.input(field, { target: { value: "wrong" } });
    await fireEvent.click(screen.getByRole("button", { name: "Run" }));
    expect((await screen.findByRole("alert")).getAttribute("data-code")).toBe("auth.confirmation_failed");
    expect(document.querySelector("#unlock-results")).toBeNull();
    await fireEvent.input(field, { target: { value: "right" } });
    await fireEvent.click(screen.getByRole("button", { name: "Run" }));
    await waitFor(() => expect(document.querySelectorAll("#unlock-results tbody tr").length).toBe(2));
    expect(unlocks.at(-1)).toEqual({ loginIds: ["u000001", "u000002"], confirmation: "right" });
    // The password field is gone with the form; the result table replaced it.
    expect(screen.queryByLabelText("Your own confirmation password")).toBeNull();
  });

  it("selects every locked user the operator may unlock, and shows seed 004's result table with its ※ note", async () => {
    mockIPC((cmd, args) => {
      if (cmd === "choices") return choices;
      if (cmd === "user_page") return { total: 3, offset: 0, rows: [row(0), row(1), row(2)] };
      if (cmd === "unlock_candidates") {
        expect((args as { contractNo: string }).contractNo).toBe("K-1001");
        return ["u000001", "u000003"];
      }
      if (cmd === "unlock_users") {
        return {
          batch: "U2",
          rows: [
            { login_id: "u000001", name: "u1", role: "General user", before: "Login password locked", outcome: "unlocked", note: null },
            { login_id: "saburodt", name: "データ三部", role: "Master user", before: "ログインパスワード利用停止", outcome: "not_permitted", note: "※ 現在はログインパスワード利用停止です。" },
          ],
        };
      }
      throw new Error(`unexpected ${cmd}`);
    });
    render(Users, { filter: "locked", contractNo: "K-1001" });
    await fireEvent.click(await screen.findByRole("button", { name: "Select every locked user" }));
    await waitFor(() => expect(screen.getByText("2 selected")).toBeTruthy());
    await fireEvent.click(screen.getByRole("button", { name: "Unlock the selected users" }));
    await fireEvent.input(screen.getByLabelText("Your own confirmation password"), { target: { value: "right" } });
    await fireEvent.click(screen.getByRole("button", { name: "Run" }));
    await waitFor(() => expect(document.querySelectorAll("#unlock-results tbody tr").length).toBe(2));
    const heads = [...document.querySelectorAll("#unlock-results thead th")].map((th) => th.textContent);
    expect(heads).toEqual(["Login ID", "Name", "Role", "Service state"]);
    const stays = document.querySelector('#unlock-results tr[data-login-id="saburodt"]')!;
    expect(stays.textContent).toContain("※ 現在はログインパスワード利用停止です。");
  });
});
