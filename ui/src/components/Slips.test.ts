// The temporary-password slip: everything the envelope needs, and only the slips are marked for
// printing while the print dialog is open.
import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/svelte";
import Slips from "./Slips.svelte";
import { i18n } from "../lib/i18n.svelte";

afterEach(cleanup);

describe("Slips", () => {
  it("shows the customer, login ID, passwords and forced-change notice, and prints only the slips", async () => {
    i18n.lang = "ja";
    let closed = false;
    render(Slips, {
      slips: [
        {
          contract_no: "K-1001",
          customer_name: "株式会社みなと商事",
          login_id: "minato-admin",
          name: "港 花子",
          login_password: "aGv4X9R5gxwA",
          confirmation_password: "v7soZxEH95r2",
          must_change: true,
          issued_at: Date.UTC(2026, 10, 23, 1, 0),
          issued_by: "山田 花子（sv001）",
          request_no: "R-2026-0042",
        },
      ],
      onclose: () => (closed = true),
    });
    const slip = document.querySelector('.slip[data-login-id="minato-admin"]')!;
    expect(slip.textContent).toContain("株式会社みなと商事（K-1001）");
    expect(slip.querySelector(".slip-login")?.textContent).toBe("aGv4X9R5gxwA");
    expect(slip.querySelector(".slip-confirmation")?.textContent).toBe("v7soZxEH95r2");
    expect(slip.textContent).toContain("R-2026-0042");
    expect(slip.textContent).toContain("初回ログイン時に必ずパスワードを変更");
    const marked: boolean[] = [];
    const print = vi.spyOn(window, "print").mockImplementation(() => {
      marked.push(document.body.classList.contains("printing-slips"));
    });
    await fireEvent.click(screen.getByRole("button", { name: "印刷" }));
    expect(marked).toEqual([true]);
    expect(document.body.classList.contains("printing-slips")).toBe(false);
    print.mockRestore();
    await fireEvent.click(screen.getByRole("button", { name: "印刷しました（閉じる）" }));
    expect(closed).toBe(true);
  });
});
