import * as assert from "assert";
import * as fs from "fs";
import { REDACTED, ROOT } from "../tools/offline/runtime";
import { parse } from "yaml";
import { kubeObjects, ofType, stackConfig, stackRun, variantRun } from "./helpers";

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

    it("takes the apps' passwords from its encrypted config, so the real engine needs no random provider", async () => {
        const file = parse(fs.readFileSync(`${ROOT}/Pulumi.local.yaml`, "utf8")) as { encryptionsalt?: string; config: Record<string, any> };
        assert.ok(file.encryptionsalt, "Pulumi.local.yaml carries its passphrase provider's salt, so creating the stack leaves the file as it is");
        assert.ok(file.config["aks-istio-mesh:secrets"].values.pets["rabbitmq-credentials"].password.secure, "the broker password is stored as secure:");
        const local = stackConfig("local");
        assert.strictEqual(local.secrets.source, "config");
        const run = await stackRun("local");
        assert.deepStrictEqual(ofType(run, "random:index/randomPassword:RandomPassword").map((r) => r.name), []);
        const broker = kubeObjects(run, "Secret").find((x) => x.metadata.name === "rabbitmq-credentials");
        assert.ok(broker, "the broker's Secret exists");
        assert.deepStrictEqual(Object.keys(broker.stringData).sort(), ["password", "username"]);
        // dev keeps generated passwords: one RandomPassword per password key.
        const dev = await stackRun("dev");
        assert.deepStrictEqual(ofType(dev, "random:index/randomPassword:RandomPassword").map((r) => r.name), ["pets-rabbitmq-credentials-password"]);
    });

    it("uses a configured value instead of generating one, with source generated too (bring or rotate your own)", async () => {
        const run = await variantRun("dev", (v) => { v["aks-istio-mesh:secrets"] = { values: { pets: { "rabbitmq-credentials": { password: "brought-by-the-team" } } } }; });
        assert.deepStrictEqual(ofType(run, "random:index/randomPassword:RandomPassword").map((r) => r.name), []);
        const broker = run.resources.find((r) => r.type === "kubernetes:core/v1:Secret" && r.name === "pets-rabbitmq-credentials");
        assert.strictEqual(JSON.stringify(broker?.inputs).includes("brought-by-the-team"), false, "a configured password reaches resources.json only redacted");
    });

    it("exports no output that is undefined on any stack (pulumi up warns 'Undefined value ... will not show as a stack output')", async () => {
        for (const stack of ["local", "dev", "prod"]) {
            const run = await stackRun(stack);
            assert.deepStrictEqual(Object.entries(run.outputs).filter(([, v]) => v === undefined).map(([k]) => k), [], `${stack}: undefined outputs`);
        }
        const local = await stackRun("local");
        assert.deepStrictEqual(Object.keys(local.outputs).sort(), ["appUrls", "clusterName", "ingressAddress", "ingressGateways", "kubeconfig", "namespaces", "revisions"]);
    });

    it("lets the pack allow only the stack's revisions, as no ManagedCluster tells it", () => {
        const pack = JSON.parse(fs.readFileSync(`${ROOT}/policy-pack/config/local.json`, "utf8"));
        assert.deepStrictEqual(pack["namespace-revision-on-cluster"], { allowedRevisions: ["asm-1-30"] });
    });
});

describe("an existing AKS cluster (cluster.existing.aks)", () => {
    const aks = (v: Record<string, any>) => {
        v["aks-istio-mesh:cluster"] = { kubernetesVersion: "1.34", existing: { aks: { resourceGroupName: "rg-platform", name: "aks-platform" } } };
        // Parts of the mesh profile the stack cannot change on a cluster it does not create.
        delete v["aks-istio-mesh:mesh"].certificateAuthority;
        delete v["aks-istio-mesh:mesh"].egressGateway;
    };

    it("looks the cluster up instead of creating one, and hangs the stack's monitoring on it", async () => {
        const run = await variantRun("prod", aks);
        const types = new Set(run.resources.map((r) => r.type));
        assert.ok(!types.has("azure-native:containerservice:ManagedCluster"), "no cluster created");
        assert.ok(!types.has("azure-native:resources:ResourceGroup"), "no resource group created");
        const clusterId = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-platform/providers/Microsoft.ContainerService/managedClusters/aks-platform";
        assert.strictEqual(run.outputs.clusterId, clusterId);
        assert.strictEqual(run.outputs.clusterName, "aks-platform");
        const dcra = run.resources.find((r) => r.type === "azure-native:monitor:DataCollectionRuleAssociation");
        assert.strictEqual(dcra?.inputs.resourceUri, clusterId, "metrics are collected from the looked-up cluster");
        assert.ok(types.has("kubernetes:networking.istio.io/v1:Gateway"));
    });
});
