// Renders the offline preview results as Markdown for $GITHUB_STEP_SUMMARY.
//
//   node .github/scripts/preview-summary.mjs <outDir> <stack>=<exitCode> ...
//
// Reads <outDir>/<stack>/report.json ({ stack, counts, policy: { violations }, schema: { checked, errors } })
// and looks for <outDir>/<stack>/mesh.svg. GitHub strips images inlined as data: URLs from job summaries, so
// the pictures are linked, not embedded: env PICTURES_URL links the artifact holding <stack>/mesh.svg,
// ARTIFACT_URL the whole offline preview (both optional).
// Always exits 0: failing the job is the workflow's decision, made after this summary is written.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const MAX_ROWS = 50;
const EXIT_MEANING = { 0: "✅ clean", 1: "❌ violations or schema errors", 2: "⚠️ bad input" };

const [outDir, ...pairs] = process.argv.slice(2);
if (!outDir || pairs.length === 0) {
  console.error("usage: preview-summary.mjs <outDir> <stack>=<exitCode> ...");
  process.exit(2);
}

/** Escapes text for inline Markdown/HTML on one line. */
function inline(value) {
  return String(value ?? "").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/\r?\n/g, " ");
}

/** Escapes text for one Markdown table cell. */
function cell(value) {
  return inline(value).replace(/\|/g, "\\|");
}

function readReport(dir) {
  const file = join(dir, "report.json");
  if (!existsSync(file)) return { report: undefined, problem: "no report.json" };
  try {
    return { report: JSON.parse(readFileSync(file, "utf8")), problem: undefined };
  } catch (err) {
    return { report: undefined, problem: `unreadable report.json (${err.message})` };
  }
}

/** Top-level numeric entries of `counts`; nested groups are left to the artifact. */
function numericCounts(counts) {
  if (!counts || typeof counts !== "object") return {};
  return Object.fromEntries(Object.entries(counts).filter(([, v]) => typeof v === "number"));
}

function objectRef(item) {
  const ns = item.namespace ? `${item.namespace}/` : "";
  const name = item.name ?? "";
  return item.kind ? `${item.kind} ${ns}${name}`.trim() : `${ns}${name}`;
}

const stacks = pairs.map((pair) => {
  const [stack, exit = ""] = pair.split("=");
  const dir = join(outDir, stack);
  const { report, problem } = readReport(dir);
  const violations = Array.isArray(report?.policy?.violations) ? report.policy.violations : [];
  const schemaErrors = Array.isArray(report?.schema?.errors) ? report.schema.errors : [];
  const picture = existsSync(join(dir, "mesh.svg"));
  return { stack, exit, report, problem, violations, schemaErrors, picture };
});

const countKeys = [...new Set(stacks.flatMap((s) => Object.keys(numericCounts(s.report?.counts))))];
const lines = ["## Offline preview", ""];

lines.push(`| Stack | Result | ${countKeys.map(cell).join(" | ")}${countKeys.length ? " | " : ""}Policy violations | Schema errors |`);
lines.push(`|---|---|${countKeys.map(() => "--:|").join("")}--:|--:|`);
for (const s of stacks) {
  const result = EXIT_MEANING[s.exit] ?? (s.exit === "" ? "not run" : `exit ${s.exit}`);
  const counts = numericCounts(s.report?.counts);
  const mandatory = s.violations.filter((v) => v.enforcement === "mandatory").length;
  const violations = s.report ? `${s.violations.length} (${mandatory} mandatory)` : "–";
  const checked = s.report?.schema?.checked;
  const schema = s.report ? `${s.schemaErrors.length}${typeof checked === "number" ? ` of ${checked} checked` : ""}` : "–";
  const countCells = countKeys.map((k) => cell(counts[k] ?? "–"));
  lines.push(`| ${cell(s.stack)} | ${cell(result)}${s.problem ? ` (${cell(s.problem)})` : ""} | ${countCells.join(" | ")}${countCells.length ? " | " : ""}${violations} | ${schema} |`);
}
lines.push("");
if (process.env.ARTIFACT_URL) {
  lines.push(`Manifests, resources, reports and pictures: [offline-preview artifact](${process.env.ARTIFACT_URL}).`, "");
}
const pictures = stacks.filter((s) => s.picture).map((s) => `\`${inline(s.stack)}/mesh.svg\``);
if (pictures.length > 0) {
  const where = process.env.PICTURES_URL ? `[mesh-pictures artifact](${process.env.PICTURES_URL})` : "offline-preview artifact";
  lines.push(`Mesh pictures (SVG, open in a browser): ${pictures.join(", ")} in the ${where}.`, "");
}

for (const s of stacks) {
  if (s.violations.length > 0) {
    lines.push(`<details><summary>${inline(s.stack)}: ${s.violations.length} policy violation(s)</summary>`, "");
    lines.push("| Policy | Enforcement | Object | Message |", "|---|---|---|---|");
    for (const v of s.violations.slice(0, MAX_ROWS)) {
      const policy = v.code ? `${v.policy} (${v.code})` : v.policy;
      lines.push(`| ${cell(policy)} | ${cell(v.enforcement)} | ${cell(objectRef(v))} | ${cell(v.message)} |`);
    }
    if (s.violations.length > MAX_ROWS) lines.push("", `… ${s.violations.length - MAX_ROWS} more in report.json`);
    lines.push("", "</details>", "");
  }
  if (s.schemaErrors.length > 0) {
    lines.push(`<details><summary>${inline(s.stack)}: ${s.schemaErrors.length} schema error(s)</summary>`, "");
    for (const e of s.schemaErrors.slice(0, MAX_ROWS)) {
      const text = typeof e === "string" ? e : [objectRef(e), e.path, e.message ?? JSON.stringify(e)].filter(Boolean).join(": ");
      lines.push(`- ${inline(text)}`);
    }
    if (s.schemaErrors.length > MAX_ROWS) lines.push(`- … ${s.schemaErrors.length - MAX_ROWS} more in report.json`);
    lines.push("", "</details>", "");
  }
}

process.stdout.write(`${lines.join("\n")}\n`);
