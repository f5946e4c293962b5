import * as assert from "assert";
import * as fs from "fs";
import { REDACTED, ROOT } from "../tools/offline/runtime";
import { kubeObjects, stackConfig, stackRun } from "./helpers";

/** The local stack: the existing-cluster mode through a kubeconfig, for the local control plane. */
describe("local stack (existing cluster through a kubeconfig)", () => {
    it("has a stack file and a generated policy-pack config", () => {
        assert.ok(fs.existsSync(`${ROOT}/Pulumi.local.yaml`));
        assert.ok(fs.existsSync(`${ROOT}/policy-pack/config/local.json`));
    });

    it("reads $KUBECONFIG's current context, runs pets and bookinfo with the dev mesh settings, no observability", () => {
        const local = stackConfig("local");
        const dev = stackConfig("dev");
        assert.deepStrictEqual(local.cluster.existing, { kubeconfig: {} });
        assert.strictEqual(local.cluster.kubernetesVersion, "1.34");
        assert.strictEqual(local.location, undefined);
        assert.deepStrictEqual(local.mesh, dev.mesh);
        assert.deepStrictEqual(local.apps, dev.apps);
        assert.strictEqual(local.environment.kind, "development");
        assert.strictEqual(local.observability.enabled, false);
    });

    it("creates no Azure resource and reaches the cluster through a secret kubeconfig", async () => {
        const run = await stackRun("local");
        assert.deepStrictEqual(run.resources.filter((r) => r.type.startsWith("azure-native:")).map((r) => r.type), []);
        const provider = run.resources.filter((r) => r.type === "pulumi:providers:kubernetes");
        assert.strictEqual(provider.length, 1);
        assert.strictEqual(provider[0].inputs.kubeconfig, REDACTED);
        for (const r of run.resources.filter((x) => x.custom && x.type.startsWith("kubernetes:"))) {
            assert.ok(r.provider?.startsWith(`${provider[0].urn}::`), `${r.type} ${r.name} does not use the kubeconfig's provider`);
        }
        assert.deepStrictEqual(run.outputs.revisions, ["asm-1-30"]);
        assert.deepStrictEqual(kubeObjects(run, "Namespace").map((n) => [n.metadata.name, n.metadata.labels["istio.io/rev"]]), [["pets", "asm-1-30"], ["bookinfo", "asm-1-30"]]);
    });

    it("lets the pack allow only the stack's revisions, as no ManagedCluster tells it", () => {
        const pack = JSON.parse(fs.readFileSync(`${ROOT}/policy-pack/config/local.json`, "utf8"));
        assert.deepStrictEqual(pack["namespace-revision-on-cluster"], { allowedRevisions: ["asm-1-30"] });
    });
});
