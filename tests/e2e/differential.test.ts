/**
 * Differential, offline vs real: every corpus object is judged by the offline schema check (tools/schema)
 * and by a real peer (the API server's strict dry-run, or istioctl validate for istiod's webhook checks).
 * They must agree on every case; where they did not, the offline check was fixed (the peer is right).
 */
import * as assert from "assert";
import { loadSchemaBundle, schemaDirForRevision, SchemaBundle, validateObjects } from "../../tools/schema";
import * as webhook from "../../tools/schema/webhook";
import { CorpusCase, loadCorpus } from "./support/corpus";
import { validate } from "./support/istioctl";
import { dryRunApply, ensureNamespaces, Kube } from "./support/kube";
import { istioctlFor, JUDGE_REVISION, kubectlPath, localCluster } from "./support/peers";

type Verdict = "accept" | "reject";

function offline(c: CorpusCase, bundle: SchemaBundle): { verdict: Verdict; findings: string[] } {
    const errors = validateObjects([c.object], bundle);
    return { verdict: errors.length > 0 ? "reject" : "accept", findings: errors.map((e) => `${e.rule} ${e.path}: ${e.message}`) };
}

/** Every distinct CEL message of the kinds' schemas in the bundle (the rule families the corpus must cover). */
function celMessages(bundle: SchemaBundle): Set<string> {
    const found = new Set<string>();
    const walk = (s: unknown): void => {
        if (typeof s !== "object" || s === null) return;
        const rules = (s as Record<string, unknown>)["x-kubernetes-validations"];
        if (Array.isArray(rules)) rules.forEach((r) => found.add(String(r.message ?? r.rule)));
        Object.values(s).forEach(walk);
    };
    bundle.schemas.forEach(walk);
    return found;
}

function disagreements(corpus: readonly CorpusCase[], judge: (c: CorpusCase) => { verdict: Verdict; output: string }, bundle: SchemaBundle): string[] {
    return corpus.flatMap((c) => {
        const peer = judge(c);
        const ours = offline(c, bundle);
        const lines: string[] = [];
        if (peer.verdict !== ours.verdict) {
            lines.push(`${c.name}: peer ${peer.verdict}s, offline check ${ours.verdict}s\n    peer: ${peer.output.split("\n").slice(0, 3).join(" / ")}\n    offline: ${ours.findings.join(" / ") || "no finding"}`);
        }
        if (peer.verdict !== c.expect) {
            lines.push(`${c.name}: the corpus expects ${c.expect} but the peer ${peer.verdict}s (${c.why}): ${peer.output.split("\n")[0]}`);
        }
        return lines;
    });
}

describe("e2e: differential corpus, offline schema check vs real peers", function () {
    const corpus = loadCorpus();
    const bundleDir = schemaDirForRevision(JUDGE_REVISION);
    const loaded = loadSchemaBundle(bundleDir);
    if (!loaded) throw new Error(`no Istio schema bundle in ${bundleDir}; run npm run schemas:fetch`);
    const bundle: SchemaBundle = loaded;

    it("covers every check the offline validator makes, with the verdict and family each case names", () => {
        const checks = new Set(corpus.map((c) => c.check));
        for (const family of ["valid", "unknown-field", "schema", "cel", "list-type", "metadata"]) {
            assert.ok(checks.has(family), `no corpus case for ${family}`);
        }
        const webhookChecks = Object.entries(webhook).filter(([name, f]) => typeof f === "function" && name !== "webhookChecks").map(([name]) => `webhook/${name}`);
        assert.deepStrictEqual(webhookChecks.filter((w) => !checks.has(w)), [], "webhook checks without a corpus case");
        const produced = new Set(corpus.filter((c) => c.check === "cel").flatMap((c) => validateObjects([c.object], bundle).filter((e) => e.rule === "cel").map((e) => e.message)));
        assert.deepStrictEqual([...celMessages(bundle)].filter((m) => !produced.has(m)).sort(), [], "CEL rules no corpus case breaks");
        const wrong = corpus.flatMap((c) => {
            const ours = validateObjects([c.object], bundle);
            const verdict = ours.length > 0 ? "reject" : "accept";
            const family = c.check.split("/")[0];
            if (verdict !== c.expect) return [`${c.name}: offline ${verdict}s, corpus expects ${c.expect}`];
            if (c.expect === "reject" && !ours.some((e) => e.rule === family)) return [`${c.name}: no ${family} finding (${ours.map((e) => e.rule).join(", ")})`];
            if (c.rule && !ours.some((e) => e.message === c.rule)) return [`${c.name}: CEL rule "${c.rule}" not reported`];
            return [];
        });
        assert.deepStrictEqual(wrong, []);
    });

    it("agrees with the API server's strict server-side dry-run on every case it judges", async function () {
        const cases = corpus.filter((c) => c.judges.includes("apiserver"));
        const cluster = await localCluster();
        const kube: Kube = { kubectl: await kubectlPath(), kubeconfig: cluster.kubeconfig };
        ensureNamespaces(kube, [...new Set(cases.map((c) => c.object.metadata?.namespace ?? "default"))]);
        const judge = (c: CorpusCase) => {
            const r = dryRunApply(kube, c.file);
            return { verdict: (r.ok ? "accept" : "reject") as Verdict, output: r.output };
        };
        assert.deepStrictEqual(disagreements(cases, judge, bundle), []);
    });

    it("agrees with istioctl validate on every case it judges (istiod's webhook checks)", async function () {
        const istioctl = await istioctlFor(JUDGE_REVISION);
        const judge = (c: CorpusCase) => {
            const r = validate(istioctl.path, c.file);
            return { verdict: (r.ok ? "accept" : "reject") as Verdict, output: r.output };
        };
        assert.deepStrictEqual(disagreements(corpus.filter((c) => c.judges.includes("istioctl")), judge, bundle), []);
    });
});
