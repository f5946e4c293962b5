import * as assert from "assert";
import { KubeObject } from "../../policy-pack/rules";
import { find, namespace, NS } from "./fixtures/mesh";
import { cases, messages } from "./helpers";

type Objects = Parameters<typeof find>[0];
const props = (o: Objects) => find(o, "ManagedCluster", "aks").properties;
const dev = { environment: "dev" as const };
const without = (o: Objects, kind: string) => { o.splice(o.findIndex((x: KubeObject) => x.kind === kind), 1); };
const window = (configName: string, durationHours = 4): KubeObject => ({
    apiVersion: "containerservice.azure.com/v1", kind: "MaintenanceConfiguration", metadata: { name: configName },
    properties: { configName, maintenanceWindow: { durationHours, startTime: "01:00", schedule: { weekly: { dayOfWeek: "Sunday", intervalWeeks: 1 } } } },
});
const gatewayPool: KubeObject = { apiVersion: "containerservice.azure.com/v1", kind: "AgentPool", metadata: { name: "egress" }, properties: { mode: "Gateway" } };
const egress = (o: Objects, gateway: Record<string, unknown> = { enabled: true, name: "mesh-egress", gatewayConfigurationName: "mesh-egress-static" }) => {
    props(o).serviceMeshProfile.istio.components.egressGateways = [gateway];
    props(o).networkProfile = { staticEgressGatewayProfile: { enabled: true } };
    o.push(structuredClone(gatewayPool));
};

describe("policy: the AKS production baseline", () => {
    describe("aks-node-pools", () => cases([
        { name: "prod without a User pool is refused", change: (o) => { without(o, "AgentPool"); }, expect: ["aks-node-pools"] },
        { name: "dev without a User pool (untainted system pool) is fine", change: (o) => { without(o, "AgentPool"); props(o).agentPoolProfiles[0].nodeTaints = []; }, expect: [], config: dev },
        { name: "a tainted system pool without a User pool is refused even in dev", change: (o) => { without(o, "AgentPool"); }, expect: ["aks-node-pools"], config: dev },
        { name: "prod with an untainted system pool is refused", change: (o) => { props(o).agentPoolProfiles[0].nodeTaints = []; }, expect: ["aks-node-pools"] },
    ]));

    describe("aks-delete-lock", () => cases([
        { name: "prod without a lock is refused", change: (o) => { without(o, "ManagementLock"); }, expect: ["aks-delete-lock"] },
        { name: "dev without a lock is fine", change: (o) => { without(o, "ManagementLock"); }, expect: [], config: dev },
        { name: "a ReadOnly lock is refused (it blocks AKS's own operations)", change: (o) => { find(o, "ManagementLock", "aks-lock").properties.level = "ReadOnly"; }, expect: ["aks-delete-lock", "aks-delete-lock"] },
    ]));

    describe("aks-maintenance-windows", () => cases([
        { name: "prod with an auto-upgrade channel and no window is refused", change: (o) => { props(o).autoUpgradeProfile = { upgradeChannel: "patch" }; }, expect: ["aks-maintenance-windows"] },
        {
            name: "prod with both windows is fine",
            change: (o) => { props(o).autoUpgradeProfile = { upgradeChannel: "patch", nodeOSUpgradeChannel: "SecurityPatch" }; o.push(window("aksManagedAutoUpgradeSchedule"), window("aksManagedNodeOSUpgradeSchedule")); },
            expect: [],
        },
        { name: "the node OS channel without its window is refused", change: (o) => { props(o).autoUpgradeProfile = { nodeOSUpgradeChannel: "NodeImage" }; o.push(window("aksManagedAutoUpgradeSchedule")); }, expect: ["aks-maintenance-windows"] },
        { name: "channel none needs no window", change: (o) => { props(o).autoUpgradeProfile = { upgradeChannel: "none", nodeOSUpgradeChannel: "None" }; }, expect: [] },
        { name: "a window under 4 hours is refused even in dev", change: (o) => { o.push(window("aksManagedAutoUpgradeSchedule", 2)); }, expect: ["aks-maintenance-windows"], config: dev },
    ]));

    describe("aks-mesh-ca", () => {
        const plugin = { keyVaultId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv", rootCertObjectName: "root-cert", certObjectName: "ca-cert", keyObjectName: "ca-key", certChainObjectName: "cert-chain" };
        const ca = (o: Objects, p: Record<string, unknown>, addon = true) => {
            props(o).serviceMeshProfile.istio.certificateAuthority = { plugin: p };
            if (addon) {
                props(o).addonProfiles = { azureKeyvaultSecretsProvider: { enabled: true } };
            }
        };
        cases([
            { name: "a complete plug-in CA with the Key Vault add-on is fine", change: (o) => ca(o, plugin), expect: [] },
            { name: "a plug-in CA without the Key Vault add-on is refused", change: (o) => ca(o, plugin, false), expect: ["aks-mesh-ca"] },
            { name: "a plug-in CA missing an object name is refused", change: (o) => ca(o, { ...plugin, keyObjectName: undefined }), expect: ["aks-mesh-ca"] },
        ]);
    });

    describe("aks-egress-gateway", () => cases([
        { name: "an egress gateway with its StaticGatewayConfiguration, profile and Gateway pool is fine", change: (o) => egress(o), expect: [] },
        { name: "an egress gateway without gatewayConfigurationName is refused", change: (o) => egress(o, { enabled: true, name: "mesh-egress" }), expect: ["aks-egress-gateway"] },
        { name: "an egress gateway name that is not a DNS name is refused", change: (o) => egress(o, { enabled: true, name: "Mesh_Egress", gatewayConfigurationName: "c" }), expect: ["aks-egress-gateway"] },
        { name: "an egress gateway without Static Egress Gateway is refused", change: (o) => { egress(o); delete props(o).networkProfile; }, expect: ["aks-egress-gateway"] },
        { name: "an egress gateway without a Gateway-mode pool is refused", change: (o) => { egress(o); o.splice(o.findIndex((x: KubeObject) => x.metadata?.name === "egress"), 1); }, expect: ["aks-egress-gateway"] },
    ]));

    describe("pod-security-admission", () => {
        const level = (o: Objects, value?: string) => {
            const labels = find(o, "Namespace", NS).metadata.labels;
            if (value === undefined) {
                delete labels["pod-security.kubernetes.io/enforce"];
            } else {
                labels["pod-security.kubernetes.io/enforce"] = value;
            }
        };
        cases([
            { name: "an injected namespace without an enforce label is refused", change: (o) => level(o), expect: ["pod-security-admission"] },
            { name: "privileged on a mesh with Istio CNI is refused", change: (o) => level(o, "privileged"), expect: ["pod-security-admission"] },
            { name: "restricted on a mesh with Istio CNI is fine", change: (o) => level(o, "restricted"), expect: [] },
            { name: "baseline on a mesh with init containers is refused (istio-init needs NET_ADMIN, NET_RAW)", change: (o) => level(o, "baseline"), expect: ["pod-security-admission"], config: { proxyRedirection: "InitContainers" } },
            { name: "privileged on a mesh with init containers is fine", change: (o) => level(o, "privileged"), expect: [], config: { proxyRedirection: "InitContainers" } },
            { name: "a level Kubernetes does not know is refused", change: (o) => level(o, "strict"), expect: ["pod-security-admission"] },
        ]);

        it("says why init containers need privileged", () => {
            const ns = namespace(NS, { "istio.io/rev": "asm-1-30", "pod-security.kubernetes.io/enforce": "restricted" });
            assert.deepStrictEqual(messages([ns], "pod-security-admission", { proxyRedirection: "InitContainers" }),
                ["pod-security.kubernetes.io/enforce=restricted refuses every injected pod: istio-init adds NET_ADMIN and NET_RAW; with init containers only privileged admits them"]);
        });
    });
});
