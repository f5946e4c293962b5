/**
 * Policy pack vs istioctl analyze, on the pack's own fixtures: the good mesh (tests/policy/fixtures/mesh.ts)
 * and every one-change break the policy tests define with `cases` (tests/policy/helpers.ts). For each IST code
 * the pack claims, a case counts as "both" when both flag it, else pack-only or istioctl-only; every
 * disagreement must carry a reason (parity-reasons.ts). The table is docs/istioctl-parity.md.
 *
 *   npm run parity:istioctl -- [--write]    prints the table (with --write: updates the doc)
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import Mocha from "mocha";
import { evaluate, KubeObject, PackConfigInput, POLICIES } from "../../policy-pack/rules";
import { goodMesh } from "../policy/fixtures/mesh";
import { Case, REGISTERED_CASES } from "../policy/helpers";
import { analysisSet, meshConfigFile } from "./support/context";
import { AnalyzerMessage, analyzeAsync, mapLimit, skippedAnalyzers } from "./support/istioctl";
import { REASONS } from "./parity-reasons";

export const DOC = path.resolve(__dirname, "..", "..", "docs", "istioctl-parity.md");
const POLICY_TESTS = path.resolve(__dirname, "..", "policy");

/** The revision of the fixtures' cluster (tests/policy/fixtures/mesh.ts). */
export const FIXTURE_REVISION = "asm-1-30";

/** Codes the pack claims (a policy's `code` lists them, comma-separated). */
export function claimedCodes(): Map<string, string[]> {
    const byCode = new Map<string, string[]>();
    for (const p of POLICIES) {
        for (const code of (p.code ?? "").split(",").map((c) => c.trim()).filter((c) => c !== "")) {
            byCode.set(code, [...(byCode.get(code) ?? []), p.name]);
        }
    }
    return new Map([...byCode].sort(([a], [b]) => a.localeCompare(b)));
}

export interface FixtureCase {
    readonly title: string;
    readonly objects: KubeObject[];
    readonly config?: PackConfigInput;
}

let loaded: FixtureCase[] | undefined;

/** The good mesh plus every registered one-change break, loaded by defining (not running) the policy tests. */
export async function fixtureCases(): Promise<FixtureCase[]> {
    if (!loaded) {
        const mocha = new Mocha();
        fs.readdirSync(POLICY_TESTS).filter((f) => f.endsWith(".test.ts")).sort().forEach((f) => mocha.addFile(path.join(POLICY_TESTS, f)));
        await mocha.loadFilesAsync();
        loaded = [
            { title: "the good mesh", objects: goodMesh() },
            ...REGISTERED_CASES.map(({ test, case: c }: { test: Mocha.Test; case: Case }) => {
                const objects = goodMesh();
                c.change(objects);
                return { title: test.fullTitle(), objects, config: c.config };
            }),
        ];
    }
    return loaded;
}

export interface CaseResult {
    readonly title: string;
    readonly pack: readonly string[];
    readonly istioctl: readonly string[];
    /** Every code istioctl reported (claimed or not), with its level. */
    readonly istioctlAll: readonly AnalyzerMessage[];
}

export async function judgeCase(istioctl: string, c: FixtureCase, claimed: ReadonlySet<string>): Promise<CaseResult> {
    const pack = [...new Set(evaluate(c.objects, c.config).flatMap((v) => (v.code ? [v.code] : [])))].sort();
    const messages = await analyzeAsync(istioctl, analysisSet(c.objects), meshConfigFile(c.objects, FIXTURE_REVISION));
    const istioctlCodes = [...new Set(messages.map((m) => m.code).filter((code) => claimed.has(code)))].sort();
    return { title: c.title, pack, istioctl: istioctlCodes, istioctlAll: messages };
}

export interface CodeRow {
    readonly code: string;
    readonly policies: readonly string[];
    readonly both: readonly string[];
    readonly packOnly: readonly string[];
    readonly istioctlOnly: readonly string[];
}

export function tabulate(results: readonly CaseResult[], claimed: Map<string, string[]>): CodeRow[] {
    return [...claimed].map(([code, policies]) => ({
        code,
        policies,
        both: results.filter((r) => r.pack.includes(code) && r.istioctl.includes(code)).map((r) => r.title),
        packOnly: results.filter((r) => r.pack.includes(code) && !r.istioctl.includes(code)).map((r) => r.title),
        istioctlOnly: results.filter((r) => !r.pack.includes(code) && r.istioctl.includes(code)).map((r) => r.title),
    }));
}

/** The reason a disagreement is deliberate, or undefined when it is unexplained. */
export function reasonFor(code: string, side: "pack-only" | "istioctl-only", title: string): string | undefined {
    return REASONS.find((r) => r.code === code && r.side === side && r.cases.some((m) => (typeof m === "string" ? m === title : m.test(title))))?.reason;
}

export function unexplained(rows: readonly CodeRow[]): string[] {
    return rows.flatMap((row) => [
        ...row.packOnly.filter((t) => !reasonFor(row.code, "pack-only", t)).map((t) => `${row.code} pack-only: ${t}`),
        ...row.istioctlOnly.filter((t) => !reasonFor(row.code, "istioctl-only", t)).map((t) => `${row.code} istioctl-only: ${t}`),
    ]);
}

function verdict(row: CodeRow): string {
    if (row.packOnly.length === 0 && row.istioctlOnly.length === 0) return row.both.length > 0 ? "agree" : "not exercised";
    return [row.packOnly.length > 0 ? "pack-only" : "", row.istioctlOnly.length > 0 ? "istioctl-only" : ""].filter((x) => x).join(" + ");
}

/** docs/istioctl-parity.md, deterministic (no timings, sorted). */
export function renderDoc(rows: readonly CodeRow[], results: readonly CaseResult[], istioctlVersion: string, skipped: readonly string[]): string {
    const lines = [
        "# Policy pack vs istioctl analyze",
        "",
        "<!-- Generated by `npm run parity:istioctl -- --write`; `npm run test:e2e` fails when it is out of date. -->",
        "",
        `For every istioctl analyze code the policy pack claims, the pack and \`istioctl analyze --use-kube=false`,
        "-i aks-istio-system` (istioctl " + istioctlVersion + ") judge the pack's own fixtures: the good mesh of",
        "`tests/policy/fixtures/mesh.ts` and each one-change break of the policy tests (" + results.length + " cases).",
        "istioctl gets what a cluster would hold besides the objects: one Pod per workload, the AKS ingress gateway",
        "(pod and Service in aks-istio-ingress) and the add-on's MeshConfig (root namespace aks-istio-system) under the",
        "shared MeshConfig ConfigMap. A case counts for a code when the code is reported on any object of the case.",
        "",
        "Offline (`--use-kube=false`) istioctl reads Pods, Services, Namespaces, Nodes and Secrets only from a live",
        "cluster, never from files, and skips every analyzer that needs them: " + skipped.map((a) => `\`${a}\``).join(", ") + ".",
        "The codes those analyzers report are therefore judged by the pack alone here; each such pack-only case",
        "names the skipped analyzer below, and the e2e test checks that istioctl really skips it.",
        "",
        "| Code | Pack policies | Both flag | Pack only | istioctl only | Verdict |",
        "|---|---|---|---|---|---|",
        ...rows.map((r) => `| ${r.code} | ${r.policies.join(", ")} | ${r.both.length} | ${r.packOnly.length} | ${r.istioctlOnly.length} | ${verdict(r)} |`),
        "",
        "## Disagreements and why they are deliberate",
        "",
    ];
    const disagreeing = rows.filter((r) => r.packOnly.length + r.istioctlOnly.length > 0);
    if (disagreeing.length === 0) lines.push("None.", "");
    for (const r of disagreeing) {
        lines.push(`### ${r.code}`, "");
        for (const [side, titles] of [["pack-only", r.packOnly], ["istioctl-only", r.istioctlOnly]] as const) {
            for (const t of titles) {
                lines.push(`- **${side}**: ${t} — ${reasonFor(r.code, side, t) ?? "UNEXPLAINED"}`);
            }
        }
        lines.push("");
    }
    const others = new Map<string, Set<string>>();
    for (const res of results) {
        for (const m of res.istioctlAll) {
            if (!rows.some((r) => r.code === m.code)) {
                others.set(`${m.code} (${m.level})`, (others.get(`${m.code} (${m.level})`) ?? new Set()).add(res.title));
            }
        }
    }
    lines.push("## Codes the pack does not claim that istioctl reported on the fixtures", "");
    if (others.size === 0) lines.push("None.", "");
    for (const [code, titles] of [...others].sort(([a], [b]) => a.localeCompare(b))) {
        lines.push(`- ${code}: ${titles.size} case(s), e.g. ${[...titles].sort()[0]}`);
    }
    lines.push("");
    return lines.join("\n");
}

/** Judges every fixture case with the given istioctl and renders the document. */
export async function parity(istioctl: string, istioctlVersion: string): Promise<{ rows: CodeRow[]; doc: string; results: CaseResult[]; skipped: string[] }> {
    const skipped = skippedAnalyzers(istioctl);
    const claimed = claimedCodes();
    const codes = new Set(claimed.keys());
    const results = await mapLimit(await fixtureCases(), os.cpus().length, (c) => judgeCase(istioctl, c, codes));
    const rows = tabulate(results, claimed);
    return { rows, results, skipped, doc: renderDoc(rows, results, istioctlVersion, skipped) };
}

async function main(argv: readonly string[]): Promise<number> {
    const { istioctlFor } = await import("./support/peers");
    const tool = await istioctlFor(FIXTURE_REVISION);
    const { rows, doc } = await parity(tool.path, tool.version);
    if (argv.includes("--write")) {
        fs.writeFileSync(DOC, doc);
        console.log(`wrote ${path.relative(process.cwd(), DOC)}`);
    } else {
        process.stdout.write(doc);
    }
    const open = unexplained(rows);
    open.forEach((line) => console.error(`unexplained: ${line}`));
    return open.length > 0 ? 1 : 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then((code) => process.exit(code), (e: Error) => {
        console.error(`parity:istioctl: ${e.message}`);
        process.exit(2);
    });
}
