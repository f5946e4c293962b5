/**
 * The AKS production baseline: node pools apart from system pods, a delete lock, maintenance windows,
 * a complete plug-in CA, a wired egress gateway, and Pod Security labels the sidecars can meet.
 */
import { POD_SECURITY_LEVELS } from "../lib/aks";
import { isSystemNamespace } from "./config";
import { asArray, asStrings, at, asString, GK, labelsOf, nameOf, ofKind } from "./k8s";
import { Finding, Issue, ResourceRule, StackRule } from "./rule";
import { KubeObject } from "./types";

const TAINT = "CriticalAddonsOnly=true:NoSchedule";
const props = (o: KubeObject) => at(o, "properties");

/** The inline pools of a ManagedCluster and the AgentPool resources of the stack, with their mode and taints. */
function pools(cluster: KubeObject, agentPools: readonly KubeObject[]): { mode: string; taints: string[] }[] {
    const inline = asArray(at(props(cluster), "agentPoolProfiles"));
    return [
        ...inline.map((p) => ({ mode: asString(at(p, "mode")) ?? "User", taints: asStrings(at(p, "nodeTaints")) })),
        ...agentPools.map((p) => ({ mode: asString(at(props(p), "mode")) ?? "User", taints: asStrings(at(props(p), "nodeTaints")) })),
    ];
}

export const aksNodePools: StackRule = {
    name: "aks-node-pools",
    description: "Apps have a node pool of their own: in prod the system pool carries CriticalAddonsOnly and at least one User pool exists; in any stack a tainted system pool needs a User pool, or nothing schedules the apps.",
    severity: "high",
    enforcement: "mandatory",
    remediation: "Set cluster.userPools (each an AgentPool of mode User); with any, the system pool is tainted CriticalAddonsOnly=true:NoSchedule so only system pods (istiod and the gateways among them) stay there.",
    scope: "stack",
    settings: ["environment"],
    kinds: [GK.managedCluster, GK.agentPool],
    check(objects, s) {
        const agentPools = ofKind(objects, GK.agentPool);
        return ofKind(objects, GK.managedCluster).flatMap((cluster): Finding[] => {
            const all = pools(cluster, agentPools);
            const users = all.filter((p) => p.mode === "User");
            const system = all.filter((p) => p.mode === "System");
            const systemTainted = system.length > 0 && system.every((p) => p.taints.includes(TAINT));
            if (users.length === 0 && systemTainted) {
                return [{ object: cluster, message: `every System pool carries ${TAINT} and there is no User pool: no app pod can be scheduled; add cluster.userPools` }];
            }
            if (s.environment !== "prod") {
                return [];
            }
            if (system.length === 0) {
                return [];
            }
            if (users.length === 0) {
                return [{ object: cluster, message: "no User node pool: the apps share the system pool with istiod, the gateways and AKS's own pods; add cluster.userPools" }];
            }
            return systemTainted ? [] : [{ object: cluster, message: `the system pool lacks the ${TAINT} taint, so apps can land beside istiod and the gateways; with user pools the stack sets it` }];
        });
    },
};

export const aksDeleteLock: StackRule = {
    name: "aks-delete-lock",
    description: "In prod the cluster's resource group carries a CanNotDelete management lock; no stack puts a ReadOnly lock there, which blocks AKS's own operations (scaling, upgrades, credentials).",
    severity: "high",
    enforcement: "mandatory",
    remediation: "Set cluster.deleteLock: true (a CanNotDelete ManagementLock on the resource group); never ReadOnly on an AKS resource group.",
    scope: "stack",
    settings: ["environment"],
    kinds: [GK.managedCluster, GK.managementLock],
    check(objects, s) {
        const locks = ofKind(objects, GK.managementLock);
        const findings: Finding[] = locks.filter((l) => at(props(l), "level") === "ReadOnly").map((l) => ({
            object: l, message: "level ReadOnly on an AKS resource group blocks the cluster's own write operations (scaling, upgrades, listing credentials); use CanNotDelete",
        }));
        if (s.environment === "prod" && !locks.some((l) => at(props(l), "level") === "CanNotDelete")) {
            findings.push(...ofKind(objects, GK.managedCluster).map((cluster) => ({
                object: cluster, message: "no CanNotDelete lock on the resource group: one delete in the portal or CLI removes the production cluster; set cluster.deleteLock: true",
            })));
        }
        return findings;
    },
};

const SCHEDULES = { upgradeChannel: "aksManagedAutoUpgradeSchedule", nodeOSUpgradeChannel: "aksManagedNodeOSUpgradeSchedule" } as const;

export const aksMaintenanceWindows: StackRule = {
    name: "aks-maintenance-windows",
    description: "In prod each auto-upgrade channel in use (Kubernetes, node OS) has its planned maintenance window; every window is at least the 4 hours AKS accepts.",
    severity: "medium",
    enforcement: "mandatory",
    remediation: "Set cluster.maintenance.autoUpgrade and cluster.maintenance.nodeOs (day, startTime, durationHours 4 to 24): the MaintenanceConfigurations aksManagedAutoUpgradeSchedule and aksManagedNodeOSUpgradeSchedule.",
    scope: "stack",
    settings: ["environment"],
    kinds: [GK.managedCluster, GK.maintenanceConfiguration],
    check(objects, s) {
        const configs = ofKind(objects, GK.maintenanceConfiguration);
        const findings: Finding[] = configs.flatMap((c) => {
            const hours = at(props(c), "maintenanceWindow", "durationHours");
            return typeof hours === "number" && hours < 4
                ? [{ object: c, message: `maintenanceWindow.durationHours is ${hours}; AKS needs at least 4` }] : [];
        });
        if (s.environment !== "prod") {
            return findings;
        }
        const names = configs.map((c) => asString(at(props(c), "configName")));
        for (const cluster of ofKind(objects, GK.managedCluster)) {
            const channels = at(props(cluster), "autoUpgradeProfile");
            for (const [field, configName] of Object.entries(SCHEDULES)) {
                const channel = asString(at(channels, field));
                if (channel && !["none", "None", "Unmanaged"].includes(channel) && !names.includes(configName)) {
                    findings.push({ object: cluster, message: `autoUpgradeProfile.${field} is ${channel} but there is no ${configName} MaintenanceConfiguration: upgrades start at any hour; set cluster.maintenance` });
                }
            }
        }
        return findings;
    },
};

const CA_OBJECTS = ["keyVaultId", "rootCertObjectName", "certObjectName", "keyObjectName", "certChainObjectName"] as const;

export const aksMeshCa: ResourceRule = {
    name: "aks-mesh-ca",
    description: "A plug-in CA names its Key Vault and all four objects (root, intermediate, its key, the chain) and the cluster runs the Key Vault Secrets Store CSI add-on istiod reads them through.",
    severity: "high",
    enforcement: "mandatory",
    remediation: "Set mesh.certificateAuthority.keyVaultId (the object names default to root-cert, ca-cert, ca-key, cert-chain); the stack then enables azureKeyvaultSecretsProvider. Only on a new cluster: an existing mesh cannot switch to a plug-in CA.",
    scope: "resource",
    settings: [],
    kinds: [GK.managedCluster],
    check(cluster) {
        const plugin = at(props(cluster), "serviceMeshProfile", "istio", "certificateAuthority", "plugin");
        if (plugin === undefined) {
            return [];
        }
        const issues: Issue[] = CA_OBJECTS.filter((k) => !asString(at(plugin, k))).map((k) => ({
            message: `serviceMeshProfile.istio.certificateAuthority.plugin.${k} is not set; istiod needs all of ${CA_OBJECTS.join(", ")}`,
        }));
        if (at(props(cluster), "addonProfiles", "azureKeyvaultSecretsProvider", "enabled") !== true) {
            issues.push({ message: "a plug-in CA without the azureKeyvaultSecretsProvider add-on: istiod cannot read the CA from Key Vault" });
        }
        return issues;
    },
};

export const aksEgressGateway: StackRule = {
    name: "aks-egress-gateway",
    description: "An enabled add-on egress gateway has a valid name and a StaticGatewayConfiguration name, the cluster enables Static Egress Gateway, and a Gateway-mode pool carries its static IPs.",
    severity: "high",
    enforcement: "mandatory",
    remediation: "Set mesh.egressGateway: the stack enables networkProfile.staticEgressGatewayProfile, adds the Gateway-mode pool and the StaticGatewayConfiguration, and names it in the gateway.",
    scope: "stack",
    settings: [],
    kinds: [GK.managedCluster, GK.agentPool],
    check(objects) {
        const gatewayPools = ofKind(objects, GK.agentPool).filter((p) => at(props(p), "mode") === "Gateway");
        return ofKind(objects, GK.managedCluster).flatMap((cluster): Finding[] => {
            const gateways = asArray(at(props(cluster), "serviceMeshProfile", "istio", "components", "egressGateways")).filter((g) => at(g, "enabled") === true);
            if (gateways.length === 0) {
                return [];
            }
            const findings: Finding[] = [];
            for (const g of gateways) {
                const name = asString(at(g, "name")) ?? "";
                if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(name) || name.length > 53) {
                    findings.push({ object: cluster, message: `egress gateway name ${JSON.stringify(name)} is not a DNS name of 1 to 53 characters` });
                }
                if (!asString(at(g, "gatewayConfigurationName"))) {
                    findings.push({ object: cluster, message: `egress gateway ${name} has no gatewayConfigurationName: AKS needs its StaticGatewayConfiguration` });
                }
            }
            if (at(props(cluster), "networkProfile", "staticEgressGatewayProfile", "enabled") !== true) {
                findings.push({ object: cluster, message: "egress gateways need networkProfile.staticEgressGatewayProfile.enabled: true" });
            }
            if (gatewayPools.length === 0) {
                findings.push({ object: cluster, message: "egress gateways need a Gateway-mode node pool for their static IPs; none is in the stack" });
            }
            return findings;
        });
    },
};

const PSA = "pod-security.kubernetes.io/enforce";

export const namespacePodSecurity: ResourceRule = {
    name: "pod-security-admission",
    description: "Every injected app namespace enforces a Pod Security level the sidecars can meet: baseline or restricted with Istio CNI; privileged with istio-init, whose NET_ADMIN and NET_RAW fail baseline.",
    severity: "high",
    enforcement: "mandatory",
    remediation: "Label the namespace pod-security.kubernetes.io/enforce=baseline (or restricted when every pod sets runAsNonRoot and seccompProfile RuntimeDefault) on a mesh with Istio CNI; with proxyRedirection InitContainers only privileged admits injected pods.",
    scope: "resource",
    settings: ["rootNamespace", "systemNamespaces", "proxyRedirection"],
    kinds: [GK.namespace],
    check(ns, s) {
        const labels = labelsOf(ns);
        if (isSystemNamespace(s, nameOf(ns) ?? "") || labels["istio.io/rev"] === undefined) {
            return [];
        }
        const level = labels[PSA];
        if (level === undefined) {
            return [{ message: `no ${PSA} label: pods here may run privileged, with host namespaces or hostPath; enforce baseline at least` }];
        }
        if (!(POD_SECURITY_LEVELS as readonly string[]).includes(level)) {
            return [{ message: `${PSA}=${level} is not a Pod Security level (${POD_SECURITY_LEVELS.join(", ")})` }];
        }
        if (s.proxyRedirection === "InitContainers") {
            return level === "privileged" ? []
                : [{ message: `${PSA}=${level} refuses every injected pod: istio-init adds NET_ADMIN and NET_RAW; with init containers only privileged admits them` }];
        }
        return level === "privileged"
            ? [{ message: `${PSA}=privileged, but with Istio CNI the sidecars meet baseline (and restricted): enforce baseline at least` }] : [];
    },
};
