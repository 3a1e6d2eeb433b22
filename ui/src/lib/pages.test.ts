// The users table's page cache: pages load when asked for, once, and answers to an older query
// are dropped.
import { describe, expect, it } from "vitest";
import { PAGE, PagedRows } from "./pages";

function source(total: number, tag: string, calls: number[]) {
  return {
    fetch: async (offset: number, limit: number) => {
      calls.push(offset);
      const rows = [];
      for (let i = offset; i < Math.min(total, offset + limit); i++) rows.push(`${tag}${i}`);
      return { total, rows };
    },
  };
}

describe("PagedRows", () => {
  it("loads the first page on reset and further pages only when they come into view", async () => {
    const calls: number[] = [];
    const rows = new PagedRows(source(1000, "a", calls), () => {});
    await rows.reset();
    expect(rows.total).toBe(1000);
    expect(rows.row(5)).toBe("a5");
    expect(rows.row(PAGE + 1)).toBeUndefined();
    rows.ensure(PAGE - 5, PAGE + 5);
    rows.ensure(PAGE - 5, PAGE + 5); // asked twice, fetched once
    await new Promise((r) => setTimeout(r, 0));
    expect(rows.row(PAGE + 1)).toBe(`a${PAGE + 1}`);
    expect(calls).toEqual([0, PAGE]);
  });

  it("drops an answer to an older query", async () => {
    let release: () => void = () => {};
    const slow = {
      fetch: (offset: number) =>
        new Promise<{ total: number; rows: string[] }>((r) => {
          release = () => r({ total: 1, rows: [`old${offset}`] });
        }),
    };
    const rows = new PagedRows<string>(slow, () => {});
    const first = rows.reset();
    await rows.reset(source(3, "new", []));
    release();
    await first;
    expect(rows.row(0)).toBe("new0");
    expect(rows.total).toBe(3);
  });
});
