/**
 * Generative differential: thousands of seeded one-change variants of every rendered Istio object (all stacks)
 * and every corpus object, each judged by the offline check (tools/schema plus the pack's validity rules, as
 * policy:check runs them) and by the real judges: `istioctl validate` at the judge revision (batched: one run
 * over many files) and the API server's strict server-side dry-run (one request per object). Every
 * disagreement fails, printed with its seed and the one change that made it; the run reports how many
 * variants per kind and the agreement rate.
 */
import * as assert from "assert";
import * as os from "os";
import { loadSchemaBundle, schemaDirForRevision } from "../../tools/schema";
import { loadCorpus } from "./support/corpus";
import { apiClient, bases, dryRun, istioctlJudge, Judged, offlineFindings, report } from "./support/generative";
import { mapLimit } from "./support/istioctl";
import { ensureNamespaces, Kube } from "./support/kube";
import { variants } from "./support/mutate";
import { istioctlFor, JUDGE_REVISION, kubectlPath, localCluster } from "./support/peers";
import { renderedStacks } from "./support/stacks";

/** Variants per distinct base object: enough for at least 2,000 in all. */
const PER_BASE = 40;

describe("e2e: generative differential, offline check vs istioctl validate and the API server", function () {
    let judged: Judged[] = [];

    it("judges at least 2,000 seeded variants of every rendered and corpus object with all three", async function () {
        const bundle = loadSchemaBundle(schemaDirForRevision(JUDGE_REVISION));
        if (!bundle) throw new Error(`no Istio schema bundle for ${JUDGE_REVISION}; run npm run schemas:fetch`);
        const stacks = await renderedStacks();
        const corpus = loadCorpus().map((c) => c.object);
        const vs = variants(bases(stacks.flatMap((s) => s.objects), corpus), PER_BASE);
        assert.ok(vs.length >= 2000, `only ${vs.length} variants`);
        const istioctl = await istioctlFor(JUDGE_REVISION);
        const cluster = await localCluster();
        const kube: Kube = { kubectl: await kubectlPath(), kubeconfig: cluster.kubeconfig };
        ensureNamespaces(kube, [...new Set(vs.map((v) => v.object.metadata?.namespace ?? "default"))]);
        const byIstioctl = istioctlJudge(istioctl.path, vs);
        const api = apiClient(cluster.kubeconfig);
        const byApi = await mapLimit(vs, Math.max(2, os.cpus().length * 2), (v) => dryRun(api, v.object));
        api.agent.destroy();
        judged = vs.map((v, i) => ({ variant: v, offline: offlineFindings(v.object, bundle), istioctl: byIstioctl.get(v.seed) ?? [], apiserver: byApi[i] }));
        assert.strictEqual(judged.length, vs.length);
    });

    it("agrees with the real judges on every variant, or names why a class cannot be judged offline", function () {
        assert.ok(judged.length > 0, "no variants were judged");
        const { lines, disagreements } = report(judged);
        console.log(lines.join("\n"));
        assert.deepStrictEqual(disagreements, [], `${disagreements.length} disagreement(s)`);
    });
});
