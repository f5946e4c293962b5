import * as assert from "assert";
import { parse } from "yaml";
import { REDACTED } from "../tools/offline/runtime";
import { AksCluster, AksClusterArgs } from "../components/cluster";
import { withKubeloginMode } from "../components/kubeconfig";
import { offlineKubeconfig, offlineMocks } from "../tools/offline/mocks";
import { runComponents } from "./component-run";
import { ofType, one, stackConfig, stackRun, stacksWhere, variantRun } from "./helpers";

const MC = "azure-native:containerservice:ManagedCluster";

describe("AksCluster", () => {
    // Stacks on an existing cluster create none (tests/local-stack.test.ts).
    for (const stack of stacksWhere((c) => !c.cluster.existing)) {
        describe(`${stack} stack`, () => {
            it("creates the cluster with the Istio add-on, its revisions and the external gateway", async () => {
                const mc = one(await stackRun(stack), MC).inputs as any;
                assert.strictEqual(mc.serviceMeshProfile.mode, "Istio");
                assert.deepStrictEqual(mc.serviceMeshProfile.istio.revisions, ["asm-1-30"]);
                assert.deepStrictEqual(mc.serviceMeshProfile.istio.components.ingressGateways, [{ mode: "External", enabled: true }]);
                assert.strictEqual(mc.resourceName, stackConfig(stack).cluster.name);
                assert.strictEqual(mc.oidcIssuerProfile.enabled, true);
                assert.strictEqual(mc.securityProfile.workloadIdentity.enabled, true);
                assert.strictEqual(mc.identity.type, "SystemAssigned");
                assert.strictEqual(mc.agentPoolProfiles.length, 1);
                assert.strictEqual(mc.agentPoolProfiles[0].mode, "System");
                assert.strictEqual(mc.networkProfile.networkPluginMode, "overlay");
                assert.strictEqual(mc.autoUpgradeProfile.upgradeChannel, "patch");
            });

            it("hands every Kubernetes resource the cluster's explicit provider", async () => {
                const run = await stackRun(stack);
                const provider = one(run, "pulumi:providers:kubernetes");
                assert.strictEqual(provider.inputs.kubeconfig, REDACTED, "the kubeconfig must be secret");
                assert.ok(String(provider.inputs.clusterIdentifier).endsWith(`/managedClusters/${stackConfig(stack).cluster.name}`));
                assert.ok(provider.dependencies.includes(one(run, MC).urn), "the provider depends on the cluster");
                const k8s = run.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"));
                for (const r of k8s) {
                    assert.ok(r.provider?.startsWith(`${provider.urn}::`), `${r.type} ${r.name} does not use the cluster's provider`);
                }
            });

            it("exports the cluster, its revisions, the ingress gateway and a secret kubeconfig", async () => {
                const out = (await stackRun(stack)).outputs;
                assert.strictEqual(out.clusterName, stackConfig(stack).cluster.name);
                assert.match(String(out.clusterId), new RegExp(`^/subscriptions/.+/managedClusters/${stackConfig(stack).cluster.name}$`));
                assert.deepStrictEqual(out.revisions, ["asm-1-30"]);
                assert.deepStrictEqual(out.ingressGateways, [{ service: "aks-istio-ingressgateway-external", namespace: "aks-istio-ingress", selector: { istio: "aks-istio-ingressgateway-external" } }]);
                assert.strictEqual(out.kubeconfig, REDACTED);
            });
        });
    }

    it("keeps dev cheap: Free tier, no zones, not protected", async () => {
        const run = await stackRun("dev");
        const mc = one(run, MC);
        const inputs = mc.inputs as any;
        assert.strictEqual(inputs.sku.tier, "Free");
        assert.strictEqual(inputs.agentPoolProfiles[0].availabilityZones, undefined);
        assert.strictEqual(inputs.agentPoolProfiles[0].enableAutoScaling, false);
        assert.strictEqual(mc.protect, false);
    });

    it("hardens prod: zones, autoscaling, Standard tier, Entra ID + Azure RBAC, no local accounts, protected", async () => {
        const mc = one(await stackRun("prod"), MC);
        const inputs = mc.inputs as any;
        assert.strictEqual(inputs.sku.tier, "Standard");
        assert.deepStrictEqual(inputs.agentPoolProfiles[0].availabilityZones, ["1", "2", "3"]);
        assert.strictEqual(inputs.agentPoolProfiles[0].enableAutoScaling, true);
        assert.strictEqual(inputs.agentPoolProfiles[0].minCount, 3);
        assert.strictEqual(inputs.agentPoolProfiles[0].maxCount, 6);
        assert.deepStrictEqual(inputs.aadProfile, { managed: true, enableAzureRBAC: true, adminGroupObjectIDs: [] });
        assert.strictEqual(inputs.disableLocalAccounts, true);
        assert.strictEqual(mc.protect, true);
    });

    it("adds the internal gateway and both revisions when configured", async () => {
        const run = await variantRun("dev", (v) => {
            v["aks-istio-mesh:mesh"].revisions = ["asm-1-29", "asm-1-30"];
            v["aks-istio-mesh:mesh"].ingressGateways.internal = true;
        });
        const mesh = (one(run, MC).inputs as any).serviceMeshProfile;
        assert.deepStrictEqual(mesh.istio.revisions, ["asm-1-29", "asm-1-30"]);
        assert.deepStrictEqual(mesh.istio.components.ingressGateways, [{ mode: "External", enabled: true }, { mode: "Internal", enabled: true }]);
        assert.strictEqual(ofType(run, MC).length, 1);
    });

    it("rewrites an AAD kubeconfig to a non-interactive kubelogin mode", () => {
        const rewritten = parse(withKubeloginMode(offlineKubeconfig("c", true), "azurecli"));
        const args: string[] = rewritten.users[0].user.exec.args;
        assert.strictEqual(args[args.indexOf("--login") + 1], "azurecli");
        assert.ok(!args.includes("devicecode"));
        assert.deepStrictEqual(parse(withKubeloginMode(offlineKubeconfig("c", false), "azurecli")), parse(offlineKubeconfig("c", false)));
    });

    describe("an autoscaled system pool", () => {
        const args = (autoscaling?: { minCount: number; maxCount: number }): AksClusterArgs => ({
            location: "westeurope", resourceGroupName: "rg", clusterName: "c", kubernetesVersion: "1.34", tier: "Free",
            systemPool: { vmSize: "Standard_D4ds_v5", count: 3, zones: [], autoscaling },
            revisions: ["asm-1-30"], ingressGateways: { external: true, internal: false },
        });
        const clusterOf = async (a: AksClusterArgs) => (await runComponents(offlineMocks, () => new AksCluster("aks", a))).resources.find((r) => r.type === MC)!;

        it("leaves the node count to the autoscaler, so an up after a refresh does not resize the pool", async () => {
            assert.deepStrictEqual((await clusterOf(args({ minCount: 3, maxCount: 6 }))).ignoreChanges, ["agentPoolProfiles[0].count"]);
        });

        it("with user pools, leaves the inline pools alone (a refresh lists the separate pools there) and the autoscaler owns each pool's count", async () => {
            const run = await runComponents(offlineMocks, () => new AksCluster("aks", { ...args(), userPools: [{ name: "apps", vmSize: "Standard_D4ds_v5", count: 3, zones: [], autoscaling: { minCount: 3, maxCount: 9 } }] }));
            assert.deepStrictEqual(run.resources.find((r) => r.type === MC)!.ignoreChanges, ["agentPoolProfiles"]);
            assert.deepStrictEqual(run.resources.find((r) => r.type === "azure-native:containerservice:AgentPool")!.ignoreChanges, ["count"]);
        });

        it("still manages the count of a fixed pool", async () => {
            assert.deepStrictEqual((await clusterOf(args())).ignoreChanges, []);
        });
    });
});
