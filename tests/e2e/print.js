// Print preview for the E2E suite. WebKitWebDriver has no "Print Page" command, so the window's
// print call is caught with the document exactly as it is then (print classes set), and that
// snapshot is printed by Debian's Chromium (the engine of WebView2, which prints on Windows) to a
// PDF. The PDF's pages and text are what a test asserts; the PDF and its pages as PNG go to the
// artifacts for a person to look at.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { artifacts } from "./harness.js";

const CHROMIUM = process.env.KAGIYA_CHROMIUM ?? "/usr/bin/chromium";

/**
 * Replaces `window.print` so that each call records whether the slips were marked for printing
 * and a self-contained copy of the document (its style sheets inlined, scripts left out).
 */
export async function catchPrints(browser) {
  await browser.execute(() => {
    window.__printed = [];
    window.print = () => {
      const copy = document.documentElement.cloneNode(true);
      copy.querySelectorAll("script, link").forEach((e) => e.remove());
      const style = document.createElement("style");
      style.textContent = [...document.styleSheets]
        .flatMap((sheet) => [...sheet.cssRules].map((rule) => rule.cssText))
        .join("\n");
      copy.querySelector("head").append(style);
      window.__printed.push({
        marked: document.body.classList.contains("printing-slips"),
        html: `<!doctype html>${copy.outerHTML}`,
      });
    };
  });
}

/** What the page printed since `catchPrints`. */
export async function printed(browser) {
  return browser.execute(() => window.__printed);
}

/**
 * Prints `html` on A4 with Chromium's print layout (print media, no header or footer) to
 * `<name>.pdf` among the artifacts, renders its pages to `<name>-N.png`, and returns the number
 * of pages and the text of each page.
 */
export function printToPdf(html, name) {
  const work = mkdtempSync(join(tmpdir(), "kagiya-print-"));
  try {
    const page = join(work, "page.html");
    writeFileSync(page, html);
    const pdf = join(artifacts, `${name}.pdf`);
    execFileSync(
      CHROMIUM,
      [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        `--user-data-dir=${join(work, "profile")}`,
        "--no-pdf-header-footer",
        `--print-to-pdf=${pdf}`,
        pathToFileURL(page).href,
      ],
      { timeout: 60_000, stdio: ["ignore", "ignore", "pipe"] },
    );
    const info = execFileSync("pdfinfo", [pdf], { encoding: "utf8" });
    const pages = Number(/^Pages:\s+(\d+)/m.exec(info)?.[1]);
    const text = execFileSync("pdftotext", ["-layout", pdf, "-"], { encoding: "utf8" })
      .split("\f")
      .slice(0, pages);
    execFileSync("pdftoppm", ["-png", "-r", "60", pdf, join(artifacts, name)]);
    return { pages, text };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
