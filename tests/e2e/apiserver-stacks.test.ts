/**
 * The real API server as ground truth: every object of every stack's manifests.yaml is accepted by a
 * server-side dry-run apply with strict field validation, against the local control plane with the Istio CRDs
 * of the stacks' revisions and the namespaces the AKS add-on creates.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { KubeObject } from "../../policy-pack/rules";
import { EGRESS_NAMESPACE } from "../../policy-pack/lib/aks";
import { toYaml, withTempDir } from "./support/istioctl";
import { dryRunApply, ensureNamespaces } from "./support/kube";
import { kubectlPath, localCluster } from "./support/peers";
import { renderedStacks, stackNames } from "./support/stacks";

/**
 * Kinds whose CRDs come from AKS add-ons other than Istio, which the local control plane does not emulate:
 * objects of these kinds are left out of the dry run, and the test says how many.
 */
export const NOT_EMULATED: readonly { apiVersion: string; kind: string; reason: string }[] = [
    {
        apiVersion: "secrets-store.csi.x-k8s.io/v1",
        kind: "SecretProviderClass",
        reason: "the AKS Key Vault secrets provider add-on installs this CRD; the local control plane emulates the Istio add-on only",
    },
    {
        apiVersion: "egressgateway.kubernetes.azure.com/v1alpha1",
        kind: "StaticGatewayConfiguration",
        reason: "AKS's Static Egress Gateway feature installs this CRD; the local control plane emulates the Istio add-on only",
    },
];

const emulated = (o: KubeObject) => !NOT_EMULATED.some((n) => n.apiVersion === o.apiVersion && n.kind === o.kind);

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
            // The add-on creates its egress gateway's namespace with the gateway; objects the stack puts there need it.
            const addOnNamespaces = s.objects.some((o) => o.metadata?.namespace === EGRESS_NAMESPACE) ? [EGRESS_NAMESPACE] : [];
            ensureNamespaces(kube, [...namespacesOf(s.objects), ...addOnNamespaces]);
            const objects = s.objects.filter(emulated);
            const r = withTempDir((dir) => {
                const file = path.join(dir, "manifests.yaml");
                fs.writeFileSync(file, toYaml(objects));
                return dryRunApply(kube, file);
            });
            const rejected = r.output.split("\n").filter((l) => !/ serverside-applied \(server dry run\)$/.test(l));
            assert.ok(r.ok, `kubectl apply --server-side --dry-run=server --validate=strict rejected ${name}:\n${rejected.join("\n")}`);
            assert.strictEqual(r.output.split("\n").length - rejected.length, objects.length, r.output);
        });
    }
});
