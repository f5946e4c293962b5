import * as assert from "assert";
import { kubeObjects, ofType, one, stackRun, variantRun } from "./helpers";

const MC = "azure-native:containerservice:ManagedCluster";
const POOL = "azure-native:containerservice:AgentPool";
const MAINTENANCE = "azure-native:containerservice:MaintenanceConfiguration";
const LOCK = "azure-native:authorization:ManagementLockAtResourceGroupLevel";
const SGC = "kubernetes:egressgateway.kubernetes.azure.com/v1alpha1:StaticGatewayConfiguration";
const ROLE = "azure-native:authorization:RoleAssignment";

describe("production baseline", () => {
    describe("node pools", () => {
        it("prod: apps get a zonal, autoscaled User pool of their own and the system pool keeps system pods only", async () => {
            const run = await stackRun("prod");
            const mc = one(run, MC);
            const apps = ofType(run, POOL).find((p) => p.inputs.mode === "User")!;
            assert.deepStrictEqual([apps.inputs.agentPoolName, apps.inputs.availabilityZones, apps.inputs.enableAutoScaling, apps.inputs.minCount, apps.inputs.maxCount],
                ["apps", ["1", "2", "3"], true, 3, 9]);
            assert.strictEqual(apps.inputs.resourceName, "aks-istio-mesh-prod");
            assert.deepStrictEqual((mc.inputs as any).agentPoolProfiles[0].nodeTaints, ["CriticalAddonsOnly=true:NoSchedule"]);
        });

        it("dev: one untainted system pool runs everything (cheap)", async () => {
            const run = await stackRun("dev");
            assert.deepStrictEqual(ofType(run, POOL), []);
            assert.strictEqual((one(run, MC).inputs as any).agentPoolProfiles[0].nodeTaints, undefined);
        });
    });

    describe("delete lock", () => {
        it("prod: a CanNotDelete lock on the resource group, after the cluster; dev: none", async () => {
            const run = await stackRun("prod");
            const lock = one(run, LOCK);
            assert.strictEqual(lock.inputs.level, "CanNotDelete");
            assert.strictEqual(lock.inputs.resourceGroupName, "rg-aks-istio-mesh-prod");
            assert.ok(lock.dependencies.includes(one(run, MC).urn), "destroy removes the lock before the cluster");
            assert.deepStrictEqual(ofType(await stackRun("dev"), LOCK), []);
        });
    });

    describe("maintenance windows", () => {
        it("prod: weekly windows for the auto-upgrade and node OS channels", async () => {
            const configs = Object.fromEntries(ofType(await stackRun("prod"), MAINTENANCE).map((m) => [m.inputs.configName, m.inputs.maintenanceWindow]));
            assert.deepStrictEqual(configs, {
                aksManagedAutoUpgradeSchedule: { schedule: { weekly: { dayOfWeek: "Sunday", intervalWeeks: 1 } }, durationHours: 4, startTime: "01:00", utcOffset: "+00:00" },
                aksManagedNodeOSUpgradeSchedule: { schedule: { weekly: { dayOfWeek: "Saturday", intervalWeeks: 1 } }, durationHours: 4, startTime: "01:00", utcOffset: "+00:00" },
            });
            assert.deepStrictEqual(ofType(await stackRun("dev"), MAINTENANCE), []);
        });
    });

    describe("pod security", () => {
        for (const stack of ["dev", "prod", "local"]) {
            it(`${stack}: app namespaces enforce baseline (Istio CNI) and warn and audit at restricted, pinned to the cluster's version`, async () => {
                const run = await stackRun(stack);
                const apps = kubeObjects(run, "Namespace").filter((n) => n.metadata.labels["istio.io/rev"]);
                assert.ok(apps.length >= 2);
                for (const ns of apps) {
                    const l = ns.metadata.labels;
                    assert.deepStrictEqual([l["pod-security.kubernetes.io/enforce"], l["pod-security.kubernetes.io/warn"], l["pod-security.kubernetes.io/audit"], l["pod-security.kubernetes.io/enforce-version"]],
                        ["baseline", "restricted", "restricted", "v1.34"], ns.metadata.name);
                }
            });
        }

        it("a mesh on init containers enforces privileged (istio-init adds NET_ADMIN and NET_RAW)", async () => {
            const run = await variantRun("dev", (v) => { v["aks-istio-mesh:mesh"].proxyRedirection = "InitContainers"; });
            const pets = kubeObjects(run, "Namespace").find((n) => n.metadata.name === "pets")!;
            assert.strictEqual(pets.metadata.labels["pod-security.kubernetes.io/enforce"], "privileged");
            assert.strictEqual(pets.metadata.labels["pod-security.kubernetes.io/warn"], "privileged");
        });
    });

    describe("plug-in CA", () => {
        it("prod: the mesh's CA from Key Vault, with the CSI add-on and its identity reading the vault", async () => {
            const run = await stackRun("prod");
            const mc = one(run, MC).inputs as any;
            const vault = mc.serviceMeshProfile.istio.certificateAuthority.plugin.keyVaultId;
            assert.deepStrictEqual(mc.serviceMeshProfile.istio.certificateAuthority.plugin, {
                keyVaultId: vault, rootCertObjectName: "root-cert", certObjectName: "ca-cert", keyObjectName: "ca-key", certChainObjectName: "cert-chain",
            });
            assert.strictEqual(mc.addonProfiles.azureKeyvaultSecretsProvider.enabled, true);
            const reader = ofType(run, ROLE).find((r) => r.name === "aks-mesh-ca-reader")!;
            assert.strictEqual(reader.inputs.scope, vault);
            assert.match(String(reader.inputs.roleDefinitionId), /4633458b-17de-408a-b874-0445c86b69e6$/, "Key Vault Secrets User");
            assert.strictEqual(reader.inputs.principalId, mc.addonProfiles.azureKeyvaultSecretsProvider.identity?.objectId ?? reader.inputs.principalId);
        });

        it("dev: the add-on's own CA", async () => {
            assert.strictEqual((one(await stackRun("dev"), MC).inputs as any).serviceMeshProfile.istio.certificateAuthority, undefined);
        });
    });

    describe("egress gateway", () => {
        it("prod: Static Egress Gateway, a Gateway-mode pool, the StaticGatewayConfiguration and the add-on gateway naming it", async () => {
            const run = await stackRun("prod");
            const mc = one(run, MC).inputs as any;
            assert.deepStrictEqual(mc.networkProfile.staticEgressGatewayProfile, { enabled: true });
            assert.deepStrictEqual(mc.serviceMeshProfile.istio.components.egressGateways,
                [{ enabled: true, name: "mesh-egress", namespace: "aks-istio-egress", gatewayConfigurationName: "mesh-egress-static" }]);
            const pool = ofType(run, POOL).find((p) => p.inputs.mode === "Gateway")!;
            assert.deepStrictEqual([pool.inputs.agentPoolName, pool.inputs.count, pool.inputs.gatewayProfile, pool.inputs.enableAutoScaling],
                ["egress", 2, { publicIPPrefixSize: 31 }, undefined]);
            const sgc = one(run, SGC);
            assert.deepStrictEqual([sgc.inputs.metadata, sgc.inputs.spec], [{ name: "mesh-egress-static", namespace: "aks-istio-egress" }, { gatewayNodepoolName: "egress" }]);
            assert.ok(sgc.dependencies.includes(pool.urn), "the configuration names the pool, so the pool comes first");
        });

        it("exports what apps route through: the gateway's Service name, namespace and pod selector", async () => {
            assert.deepStrictEqual((await stackRun("prod")).outputs.egressGateway as unknown, { name: "mesh-egress", namespace: "aks-istio-egress", selector: { istio: "mesh-egress" } });
            assert.strictEqual((await stackRun("dev")).outputs.egressGateway, undefined);
        });

        it("creates a namespace of the stack's choosing for the gateway", async () => {
            const run = await variantRun("dev", (v) => { v["aks-istio-mesh:mesh"].egressGateway = { name: "out", namespace: "egress" }; });
            assert.ok(kubeObjects(run, "Namespace").some((n) => n.metadata.name === "egress"));
            assert.strictEqual((one(run, SGC).inputs as any).metadata.namespace, "egress");
            assert.deepStrictEqual(run.outputs.egressGateway, { name: "out", namespace: "egress", selector: { istio: "out" } });
        });
    });
});
