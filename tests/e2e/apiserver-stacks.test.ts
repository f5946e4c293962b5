/**
 * The real API server as ground truth: every object of every stack's manifests.yaml is accepted by a
 * server-side dry-run apply with strict field validation, against the local control plane with the Istio CRDs
 * of the stacks' revisions and the namespaces the AKS add-on creates.
 */
import * as assert from "assert";
import { KubeObject } from "../../policy-pack/rules";
import { dryRunApply, ensureNamespaces } from "./support/kube";
import { kubectlPath, localCluster } from "./support/peers";
import { renderedStacks, stackNames } from "./support/stacks";

function namespacesOf(objects: readonly KubeObject[]): string[] {
    return objects.filter((o) => o.kind === "Namespace").map((o) => o.metadata?.name ?? "").filter((n) => n !== "");
}

describe("e2e: the API server accepts every rendered object", function () {
    for (const name of stackNames()) {
        it(`stack ${name}: server-side dry-run apply, strict field validation`, async () => {
            const stacks = await renderedStacks();
            const s = stacks.find((x) => x.stack === name);
            assert.ok(s, `stack ${name} was not rendered`);
            const cluster = await localCluster();
            const kube = { kubectl: await kubectlPath(), kubeconfig: cluster.kubeconfig };
            ensureNamespaces(kube, namespacesOf(s.objects));
            const r = dryRunApply(kube, s.manifests);
            assert.ok(r.ok, `kubectl apply --server-side --dry-run=server --validate=strict rejected ${name}:\n${r.output}`);
            assert.strictEqual(r.output.split("\n").filter((l) => / (serverside-applied|created|configured|unchanged) \(server dry run\)$/.test(l)).length, s.objects.length, r.output);
        });
    }
});
