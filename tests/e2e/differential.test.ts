/**
 * Differential, offline vs real: every corpus object is judged by the offline schema check (tools/schema)
 * and by a real peer (the API server's strict dry-run, or istioctl validate for istiod's webhook checks).
 * They must agree on every case; where they did not, the offline check was fixed (the peer is right).
 */
import * as assert from "assert";
import { evaluate, ResourceRule } from "../../policy-pack/rules";
import { gatewayTls } from "../../policy-pack/rules/gateways";
import { ISTIOD_RULES } from "../../policy-pack/rules/istiod";
import * as webhook from "../../policy-pack/rules/webhook";
import { loadSchemaBundle, schemaDirForRevision, SchemaBundle, validateObjects } from "../../tools/schema";
import { CorpusCase, loadCorpus } from "./support/corpus";
import { validate } from "./support/istioctl";
import { dryRunApply, ensureNamespaces, Kube } from "./support/kube";
import { istioctlFor, JUDGE_REVISION, kubectlPath, localCluster } from "./support/peers";

type Verdict = "accept" | "reject";

/**
 * The pack rules that mirror istiod's validation (policy-pack/rules/webhook.ts and istiod.ts), plus gateway-tls,
 * whose first check (an HTTPS/TLS server needs tls settings) is istiod's.
 */
const WEBHOOK_RULES: readonly ResourceRule[] = [
    ...Object.values(webhook).filter((r): r is ResourceRule => typeof r === "object" && r !== null && (r as ResourceRule).scope === "resource"),
    ...ISTIOD_RULES,
    gatewayTls,
];

interface OfflineFinding {
    /** The schema rule family, or `webhook/<pack rule>`. */
    readonly family: string;
    readonly text: string;
    readonly message: string;
}

/** The offline verdict: the schema check (tools/schema) plus the pack's webhook rules, as `policy:check` runs both. */
function offlineFindings(c: CorpusCase, bundle: SchemaBundle): OfflineFinding[] {
    const schema = validateObjects([c.object], bundle).map((e) => ({ family: e.rule, text: `${e.rule} ${e.path}: ${e.message}`, message: e.message }));
    const names = new Set(WEBHOOK_RULES.map((r) => r.name));
    const hooks = evaluate([c.object]).filter((v) => names.has(v.policy)).map((v) => ({ family: `webhook/${v.policy}`, text: `${v.policy}: ${v.message}`, message: v.message }));
    return [...schema, ...hooks];
}

function offline(c: CorpusCase, bundle: SchemaBundle): { verdict: Verdict; findings: string[] } {
    const findings = offlineFindings(c, bundle);
    return { verdict: findings.length > 0 ? "reject" : "accept", findings: findings.map((f) => f.text) };
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

/**
 * What the API server says for a family under server-side apply, where its wording is fixed (CEL cases name
 * their rule's message instead).
 */
const PEER_WORDING: Record<string, string> = {
    "unknown-field": "field not declared in schema",
    "list-type": "duplicate entries for key",
};

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
        // The peer must refuse for the reason the case is about, not another one.
        const reason = c.rule ?? PEER_WORDING[c.check];
        if (peer.verdict === "reject" && reason && !peer.output.includes(reason)) {
            lines.push(`${c.name}: the peer rejects, but not with "${reason}": ${peer.output.split("\n").slice(0, 3).join(" / ")}`);
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
        assert.deepStrictEqual(WEBHOOK_RULES.map((r) => `webhook/${r.name}`).filter((w) => !checks.has(w)), [], "webhook rules without a corpus case");
        const produced = new Set(corpus.filter((c) => c.check === "cel").flatMap((c) => offlineFindings(c, bundle).filter((f) => f.family === "cel").map((f) => f.message)));
        assert.deepStrictEqual([...celMessages(bundle)].filter((m) => !produced.has(m)).sort(), [], "CEL rules no corpus case breaks");
        const wrong = corpus.flatMap((c) => {
            const ours = offlineFindings(c, bundle);
            const verdict = ours.length > 0 ? "reject" : "accept";
            if (verdict !== c.expect) return [`${c.name}: offline ${verdict}s, corpus expects ${c.expect}`];
            if (c.expect === "reject" && !ours.some((f) => f.family === c.check)) return [`${c.name}: no ${c.check} finding (${ours.map((f) => f.family).join(", ")})`];
            if (c.rule && !ours.some((f) => f.message === c.rule)) return [`${c.name}: CEL rule "${c.rule}" not reported`];
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
