import { describe, expect, it } from "vitest";
import { dictionaries, formatDuration } from "./i18n.svelte";
import { intervals } from "./activity";

describe("dictionaries", () => {
  it("have the same keys in both languages and no empty label", () => {
    const ja = Object.keys(dictionaries.ja).sort();
    const en = Object.keys(dictionaries.en).sort();
    expect(en).toEqual(ja);
    for (const lang of ["ja", "en"] as const) {
      for (const [key, value] of Object.entries(dictionaries[lang])) {
        if (typeof value === "string") expect(value.trim(), `${lang}.${key}`).not.toBe("");
      }
    }
  });

  it("really differ between the languages", () => {
    expect(dictionaries.ja.signIn).toBe("サインイン");
    expect(dictionaries.en.signIn).toBe("Sign in");
  });
});

describe("windows in the labels", () => {
  it("take the console's number in both languages, and read without it while it loads", () => {
    expect(dictionaries.ja.fExpiring(21)).toBe("21日以内に期限切れ");
    expect(dictionaries.en.fExpiring(21)).toBe("Expiring within 21 days");
    expect(dictionaries.ja.fExpiring(null)).not.toMatch(/\d/);
    expect(dictionaries.en.ipReleaseMinutes(720)).toBe("Release for (minutes, at most 720)");
    expect(dictionaries.ja.ipReleaseMinutes(null)).not.toMatch(/\d/);
    expect(dictionaries.en.dashChart(7)).toBe("Lockouts per day (last 7 days)");
    expect(dictionaries.ja.dashCertExpiring(45)).toBe("45日以内に期限切れの証明書");
    expect(dictionaries.en.dashPwExpiring(10)).toBe("Passwords expiring within 10 days");
  });
});

describe("formatDuration", () => {
  it("uses minutes when whole, seconds otherwise", () => {
    expect(formatDuration(600, "ja")).toBe("10分");
    expect(formatDuration(600, "en")).toBe("10 min");
    expect(formatDuration(5, "ja")).toBe("5秒");
    expect(formatDuration(90, "en")).toBe("90 s");
  });
});

describe("activity intervals", () => {
  it("poll often enough to lock on time and never flood the console", () => {
    expect(intervals(600)).toEqual({ touchMs: 15_000, pollMs: 5_000 });
    expect(intervals(5)).toEqual({ touchMs: 1_250, pollMs: 1_000 });
    expect(intervals(0)).toEqual({ touchMs: 250, pollMs: 250 });
  });
});
