/**
 * Faults under the real engine, on the `local` stack deployed onto the e2e control plane: an update
 * interrupted (SIGINT, then SIGKILL of the CLI), drift behind Pulumi's back, two updates at once, and bad
 * stack config through the real `preview`. Every case ends converged: a no-change preview passes and the API
 * server holds the offline render. The runbook these cases exercise is docs/recovery.md.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse, stringify } from "yaml";
import * as auto from "@pulumi/pulumi/automation";
import { KubeObject } from "../../policy-pack/rules";
import { at, nameOf as maybeName } from "../../policy-pack/rules/k8s";
import { engineStack, EngineStack } from "../../tools/engine";
import { Kube, kubectl } from "./support/kube";
import { assertMatchesRender } from "./support/live";
import { kubectlPath, localCluster } from "./support/peers";
import { renderedStacks } from "./support/stacks";
import { CATALOG } from "../../components/apps/catalog";
import { parseStackConfig } from "../../config";
import { loadConfig } from "../../tools/offline/runtime";

const STACK = "local";

const nameOf = (o: KubeObject): string => maybeName(o) ?? "";

type StackFile = { config: Record<string, unknown> } & Record<string, unknown>;

/** Pids of the CLI processes this test process started (the Automation API's children named pulumi). */
function cliPids(): number[] {
    const r = spawnSync("ps", ["-o", "pid=,comm=", "--ppid", String(process.pid)], { encoding: "utf8" });
    return r.stdout.split("\n").map((l) => l.trim().split(/\s+/)).filter(([, comm]) => comm === "pulumi").map(([pid]) => Number(pid));
}

/** Every process below `pid` (the CLI's plugins: the provider, the policy pack), children first. */
function descendants(pid: number): number[] {
    const r = spawnSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" });
    const children = r.stdout.split("\n").map((l) => Number(l.trim())).filter((p) => p > 0);
    return children.flatMap((c) => [...descendants(c), c]);
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
        if (Date.now() > deadline) assert.fail(`${what}: not within ${timeoutMs / 1000} s`);
        await new Promise((r) => setTimeout(r, 250));
    }
}

describe("e2e: faults under the real engine (interrupted updates, drift, concurrent updates, bad input)", function () {
    let kube: Kube;
    let objects: KubeObject[] = [];
    let engine: EngineStack | undefined;
    let original: StackFile;
    const stackFile = () => path.join(engine!.stack.workspace.workDir, `Pulumi.${STACK}.yaml`);
    const up = (opts: auto.UpOptions = {}) => engine!.stack.up({ ...engine!.policy, color: "never", ...opts });
    const preview = (opts: auto.PreviewOptions = {}) => engine!.stack.preview({ ...engine!.policy, color: "never", ...opts });

    /** Converged: a no-change preview passes and the cluster holds the offline render. */
    async function assertConverged(what: string): Promise<void> {
        await preview({ expectNoChanges: true }).catch((e: Error) => assert.fail(`${what}: the preview after recovery is not a no-op: ${e.message.split("\n").slice(-5).join(" ")}`));
        assertMatchesRender(kube, objects);
        process.stderr.write(`      [faults] ${what}: converged (no-change preview, cluster = offline render)\n`);
    }

    before(async function () {
        this.timeout(8 * 60_000);
        const s = (await renderedStacks()).find((x) => x.stack === STACK);
        assert.ok(s, `stack ${STACK} was not rendered`);
        objects = s.objects;
        const cluster = await localCluster();
        kube = { kubectl: await kubectlPath(), kubeconfig: cluster.kubeconfig };
        engine = await engineStack(STACK, { KUBECONFIG: cluster.kubeconfig });
        original = parse(fs.readFileSync(stackFile(), "utf8")) as StackFile;
    });

    after(async function () {
        this.timeout(5 * 60_000);
        if (!engine) return;
        await engine.stack.cancel().catch(() => undefined);
        await engine.stack.destroy({ color: "never" }).catch(() => undefined);
        await engine.remove().catch(() => undefined);
    });

    it("an up interrupted with SIGINT (Ctrl-C) stops cleanly, and the next up completes", async function () {
        this.timeout(6 * 60_000);
        const abort = new AbortController();
        let created = 0;
        const interrupted = up({
            signal: abort.signal,
            onEvent: (e) => {
                if (e.resOutputsEvent?.metadata.op === "create" && ++created === 10) abort.abort();
            },
        });
        await assert.rejects(interrupted, (e: Error) => /cancel|interrupt|signal/i.test(e.message), "the interrupted up must fail");
        process.stderr.write(`      [faults] SIGINT after ${created} creates: the up stopped\n`);
        const r = await up();
        assert.strictEqual(r.summary.result, "succeeded");
        await assertConverged("SIGINT");
    });

    it("an up whose CLI is killed (SIGKILL) leaves pending operations; refresh --clear-pending-creates and up converge", async function () {
        this.timeout(8 * 60_000);
        await engine!.stack.destroy({ color: "never" });
        let created = 0;
        let killed = 0;
        const orphans: number[] = [];
        const dying = up({
            onEvent: (e) => {
                if (e.resOutputsEvent?.metadata.op === "create" && ++created === 10) {
                    for (const pid of cliPids()) {
                        // Its plugins outlive a killed CLI (the pack would keep serving): the test stops them too.
                        orphans.push(...descendants(pid));
                        process.kill(pid, "SIGKILL");
                        killed++;
                    }
                }
            },
        });
        await assert.rejects(dying).finally(() => {
            for (const pid of orphans) {
                try {
                    process.kill(pid, "SIGKILL");
                } catch {
                    // Already gone with the CLI.
                }
            }
        });
        assert.ok(killed > 0, "the CLI was found and killed");
        process.stderr.write(`      [faults] SIGKILL after ${created} creates\n`);
        // The runbook: clear what the killed update left (its lock, its pending creates), then up again.
        await engine!.stack.cancel().catch(() => undefined);
        await engine!.stack.refresh({ color: "never", clearPendingCreates: true });
        const r = await up();
        assert.strictEqual(r.summary.result, "succeeded");
        await assertConverged("SIGKILL");
    });

    it("repairs drift: an object changed and another deleted behind Pulumi's back, an Istio weight and mode edited by hand", async function () {
        this.timeout(6 * 60_000);
        const vs = objects.find((o) => o.kind === "VirtualService" && (at(o, "spec", "http") as unknown[] | undefined)?.some((h) => ((at(h, "route") as unknown[] | undefined)?.length ?? 0) > 1));
        const pa = objects.find((o) => o.kind === "PeerAuthentication" && at(o, "spec", "mtls", "mode") === "STRICT" && at(o, "metadata", "namespace") !== "aks-istio-system");
        const svc = objects.find((o) => o.kind === "Service" && at(o, "metadata", "namespace") === "bookinfo");
        const cm = objects.find((o) => o.kind === "ConfigMap" && at(o, "metadata", "namespace") === "pets");
        assert.ok(vs && pa && svc && cm, "the local stack renders a weighted VirtualService, a STRICT PeerAuthentication, a Service and a ConfigMap");
        const ns = (o: KubeObject) => String(at(o, "metadata", "namespace"));
        const must = (args: string[]) => { const r = kubectl(kube, args); assert.ok(r.ok, `kubectl ${args.join(" ")}: ${r.output}`); };
        must(["label", "service", "-n", ns(svc), nameOf(svc), "drift=by-hand", "--overwrite"]);
        must(["delete", "configmap", "-n", ns(cm), nameOf(cm)]);
        const weighted = (at(vs, "spec", "http") as unknown[]).findIndex((h) => ((at(h, "route") as unknown[] | undefined)?.length ?? 0) > 1);
        must(["patch", "virtualservice.networking.istio.io", "-n", ns(vs), nameOf(vs), "--type=json", "-p", JSON.stringify([
            { op: "replace", path: `/spec/http/${weighted}/route/0/weight`, value: 100 }, { op: "replace", path: `/spec/http/${weighted}/route/1/weight`, value: 0 }])]);
        must(["patch", "peerauthentication.security.istio.io", "-n", ns(pa), nameOf(pa), "--type=merge", "-p", JSON.stringify({ spec: { mtls: { mode: "PERMISSIVE" } } })]);
        const refreshed = await engine!.stack.refresh({ color: "never" });
        const changes = refreshed.summary.resourceChanges ?? {};
        assert.ok((changes.update ?? 0) >= 3, `refresh saw the three edits as updates: ${JSON.stringify(changes)}`);
        assert.ok((changes.delete ?? 0) >= 1, `refresh saw the deleted ConfigMap: ${JSON.stringify(changes)}`);
        const r = await up();
        assert.strictEqual(r.summary.result, "succeeded");
        await assertConverged("drift");
    });

    it("refuses a second up of the same stack while one runs (the backend's lock), and the state stays intact", async function () {
        this.timeout(6 * 60_000);
        // A change to apply, so the first up holds the lock for a while: a label on every app namespace.
        const edit = (c: Record<string, unknown>) => { (c["aks-istio-mesh:mesh"] as Record<string, unknown>).faultInjection = false; };
        const doc = structuredClone(original);
        edit(doc.config);
        fs.writeFileSync(stackFile(), stringify(doc));
        try {
            let started = false;
            const first = up({ onEvent: (e) => { if (e.resourcePreEvent) started = true; } });
            await until("the first up starts its steps", () => started, 120_000);
            const second = await up().then(() => undefined, (e: Error) => e);
            assert.ok(second instanceof auto.ConcurrentUpdateError || /locked|conflict|another update/i.test(String(second?.message)),
                `the second up must be refused by the lock; it ${second ? `failed with: ${second.message.split("\n").slice(-3).join(" ")}` : "succeeded"}`);
            const r = await first;
            assert.strictEqual(r.summary.result, "succeeded");
        } finally {
            fs.writeFileSync(stackFile(), stringify(original));
        }
        await up();
        await assertConverged("concurrent updates");
    });

    it("prints a bad stack config through the real preview as one line naming the key, and registers nothing", async function () {
        this.timeout(8 * 60_000);
        const mesh = (c: Record<string, unknown>) => c["aks-istio-mesh:mesh"] as Record<string, unknown>;
        const cases: { edit: (c: Record<string, unknown>) => void; key: string }[] = [
            { edit: (c) => { mesh(c).revisions = ["1.23"]; }, key: "aks-istio-mesh:mesh.revisions" },
            { edit: (c) => { mesh(c).revisions = ["asm-1-28"]; }, key: "aks-istio-mesh:mesh.revisions" },
            { edit: (c) => { mesh(c).outboundTrafficPolicy = "DENY_ALL"; }, key: "aks-istio-mesh:mesh.outboundTrafficPolicy" },
            { edit: (c) => { mesh(c).faultInjection = "yes"; }, key: "aks-istio-mesh:mesh.faultInjection" },
            { edit: (c) => { c["aks-istio-mesh:apps"] = ["shop"]; }, key: "aks-istio-mesh:apps[0]" },
            { edit: (c) => { c["aks-istio-mesh:bogus"] = true; }, key: "aks-istio-mesh:bogus" },
            { edit: (c) => { c["aks-istio-mesh:observability"] = { enabled: true }; }, key: "aks-istio-mesh:observability.enabled" },
            { edit: (c) => { (c["aks-istio-mesh:ingress"] as { hosts: Record<string, string> }).hosts.shop = "shop.local"; }, key: "aks-istio-mesh:ingress.hosts.shop" },
            { edit: (c) => { c["aks-istio-mesh:secrets"] = { source: "vault" }; }, key: "aks-istio-mesh:secrets.source" },
            { edit: (c) => { (c["aks-istio-mesh:cluster"] as Record<string, unknown>).existing = { kubeconfig: { path: "/nonexistent/kubeconfig" } }; }, key: "aks-istio-mesh:cluster.existing.kubeconfig" },
            { edit: (c) => { mesh(c).mtlsExceptions = [{ namespace: "pets", selector: { app: "rabbit" }, reason: "typo" }]; }, key: "aks-istio-mesh:mesh.mtlsExceptions[0].selector" },
        ];
        try {
            for (const { edit, key } of cases) {
                const doc = structuredClone(original);
                edit(doc.config);
                fs.writeFileSync(stackFile(), stringify(doc));
                // What the offline preview refuses the same file with (config's refusals; the kubeconfig's is the component's).
                let offline: string | undefined;
                try {
                    parseStackConfig(STACK, loadConfig(STACK, stackFile()).values, CATALOG);
                } catch (e) {
                    offline = (e as Error).message;
                }
                let output = "";
                const error = await preview({ onOutput: (o) => { output += o; } }).then(() => undefined, (e: Error) => e);
                assert.ok(error, `${key}: the preview must fail`);
                const text = `${output}\n${error.message}`;
                // The engine may repeat a program error in its diagnostics; it must be one message.
                const lines = [...new Set(text.split("\n").map((l) => /^\s*error: (aks-istio-mesh:.*)$/.exec(l)?.[1]).filter((l): l is string => !!l))];
                assert.strictEqual(lines.length, 1, `${key}: one refusal, naming the key; got:\n${lines.join("\n") || text.slice(-2000)}`);
                assert.ok(lines[0].startsWith(`${key}`), `${key}: the refusal names another key: ${lines[0]}`);
                if (offline) assert.strictEqual(lines[0], offline, `${key}: the real preview's refusal differs from the offline preview's`);
                assert.ok(!/\n\s+at .+\(.+:\d+:\d+\)/.test(output), `${key}: the preview printed a stack trace:\n${output.slice(-2000)}`);
                // Nothing registered before the refusal: no Kubernetes object in the plan.
                assert.ok(!/\+\s+kubernetes:/.test(output), `${key}: resources were registered before the refusal:\n${output.slice(-2000)}`);
                process.stderr.write(`      [faults] bad input ${key}: refused in one line, nothing registered\n`);
            }
        } finally {
            fs.writeFileSync(stackFile(), stringify(original));
        }
        await assertConverged("bad input");
    });
});
