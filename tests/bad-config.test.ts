import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { bookinfo } from "../components/apps/bookinfo";
import { pets } from "../components/apps/pets";
import { ROOT } from "../tools/offline/runtime";
import { run } from "../tools/policy-config";
import { parseStackConfig } from "./helpers";

type Config = Record<string, any>;

const CLUSTER = "aks-istio-mesh:cluster";
const MESH = "aks-istio-mesh:mesh";
const APPS = "aks-istio-mesh:apps";
const SECRETS = "aks-istio-mesh:secrets";
const ZERO = "/subscriptions/00000000-0000-0000-0000-000000000000";
/** A one-service app of a team's own, for calls across apps. */
const BOARD = {
    services: [{ name: "web", image: "docker.io/nginxinc/nginx-unprivileged:1.27.3", ports: [{ port: 8080, protocol: "http" }],
        resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } } }],
    name: "board",
};

/**
 * Values users have written that Azure or the API server would refuse later, or that were reported
 * badly: each is a stack file edit, the key the message must name and what it must say.
 */
/** A third app, a copy of pets under its own name, placed in `namespace` (or, without one, in the namespace its name gives). */
const shopIn = (namespace: string | undefined, name = "shop") => (c: Config) => {
    const spec: Config = { ...structuredClone(pets), name, namespace };
    if (namespace === undefined) {
        delete spec.namespace;
    }
    c[APPS] = ["pets", "bookinfo", { name, spec }];
};
/** The bookinfo spec with `change` applied, as an inline spec. */
const withBookinfo = (change: (spec: Config) => void): Config => {
    const spec = structuredClone(bookinfo) as Config;
    change(spec);
    return spec;
};
const RESERVED = /reserved namespaces \(kube-system, kube-public, kube-node-lease, default, aks-istio-system, aks-istio-ingress, aks-istio-egress, gatekeeper-system, .*, kiali\) cannot hold an app: set aks-istio-mesh:apps\[2\]\.spec\.namespace to a namespace of its own/;

const CORPUS: { what: string; edit: (c: Config) => void; key: string; says: RegExp }[] = [
    ...["kube-system", "kube-public", "kube-node-lease", "default"].map((ns) => ({ what: `an app in ${ns}`, edit: shopIn(ns), key: `${APPS}[2].spec.namespace`, says: new RegExp(`: "${ns}" belongs to Kubernetes; ${RESERVED.source}`) })),
    ...["aks-istio-system", "aks-istio-ingress", "aks-istio-egress"].map((ns) => ({ what: `an app in the add-on's ${ns}`, edit: shopIn(ns), key: `${APPS}[2].spec.namespace`, says: new RegExp(`"${ns}" belongs to the AKS Istio add-on; ${RESERVED.source}`) })),
    ...["gatekeeper-system", "calico-system", "tigera-operator", "app-routing-system"].map((ns) => ({ what: `an app in the AKS add-on namespace ${ns}`, edit: shopIn(ns), key: `${APPS}[2].spec.namespace`, says: /belongs to an AKS add-on/ })),
    { what: "an app in the program's Kiali namespace", edit: shopIn("kiali"), key: `${APPS}[2].spec.namespace`, says: /"kiali" belongs to this program's observability/ },
    { what: "an app named after a reserved namespace, without its own", edit: shopIn(undefined, "kiali"), key: `${APPS}[2].spec.name`, says: /the app's namespace defaults to its name "kiali", which belongs to this program's observability/ },
    { what: "apps set with pulumi config set as text that is not YAML", edit: (c) => { c[APPS] = "[pets, bookinfo"; }, key: APPS, says: /neither JSON nor YAML/ },
    { what: "a CIDR prefix above /32", edit: (c) => { c[CLUSTER].authorizedIpRanges = ["203.0.113.0/33"]; }, key: `${CLUSTER}.authorizedIpRanges[0]`, says: /prefix length \/33 is above \/32/ },
    { what: "an octet above 255", edit: (c) => { c[CLUSTER].authorizedIpRanges = ["203.0.113.7", "10.999.0.0/16"]; }, key: `${CLUSTER}.authorizedIpRanges[1]`, says: /octet 999 is above 255/ },
    {
        what: "a resource group given as a full resource id",
        edit: (c) => { c[CLUSTER].resourceGroupName = `${ZERO}/resourceGroups/rg-mesh`; },
        key: `${CLUSTER}.resourceGroupName`, says: /looks like a resource id; give the name only \(here "rg-mesh"\)/,
    },
    {
        what: "a cluster name given as a full resource id",
        edit: (c) => { c[CLUSTER].name = `${ZERO}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks-mesh`; },
        key: `${CLUSTER}.name`, says: /looks like a resource id; give the name only \(here "aks-mesh"\)/,
    },
    { what: "a resource group name Azure refuses", edit: (c) => { c[CLUSTER].resourceGroupName = "rg mesh."; }, key: `${CLUSTER}.resourceGroupName`, says: /not a resource group name Azure accepts/ },
    { what: "a zero request timeout", edit: (c) => { c[MESH].resilience = { timeout: "0s" }; }, key: `${MESH}.resilience.timeout`, says: /"0s" is too short: must be at least 1ms/ },
    { what: "a zero outlier detection interval", edit: (c) => { c[MESH].resilience = { outlierDetection: { interval: "0ms" } }; }, key: `${MESH}.resilience.outlierDetection.interval`, says: /at least 1ms/ },
    {
        what: "a zero fault delay",
        edit: (c) => { c[APPS] = ["pets", { name: "bookinfo", traffic: { ratings: { fault: { delay: { fixedDelay: "0s", percent: 100 } } } } }]; },
        key: `${APPS}[1].traffic.ratings.fault.delay.fixedDelay`, says: /at least 1ms/,
    },
    {
        what: "a rate limit refilled faster than Envoy allows",
        edit: (c) => { c[APPS] = ["pets", { name: "bookinfo", traffic: { productpage: { rateLimit: { maxTokens: 10, tokensPerFill: 10, fillInterval: "10ms" } } } }]; },
        key: `${APPS}[1].traffic.productpage.rateLimit.fillInterval`, says: /at least 50ms/,
    },
    {
        what: "an mTLS exception whose selector matches no workload of its namespace",
        edit: (c) => { c[MESH].mtlsExceptions = [{ namespace: "pets", selector: { app: "rabbit" }, reason: "typo" }]; },
        key: `${MESH}.mtlsExceptions[0].selector`, says: /\{"app":"rabbit"\} matches no workload in namespace pets; its pods carry app: .*rabbitmq/,
    },
    {
        what: "an mTLS exception for a version the service does not run",
        edit: (c) => { c[MESH].mtlsExceptions = [{ namespace: "bookinfo", selector: { app: "reviews", version: "v4" }, reason: "typo" }]; },
        key: `${MESH}.mtlsExceptions[0].selector`, says: /matches no workload in namespace bookinfo/,
    },
    { what: "a Kubernetes version no revision supports", edit: (c) => { c[CLUSTER].kubernetesVersion = "1.40"; }, key: `${CLUSTER}.kubernetesVersion`, says: /no supported Istio revision runs on Kubernetes 1\.40 \(asm-1-29: 1\.31 to 1\.36/ },
    { what: "an unquoted Kubernetes version", edit: (c) => { c[CLUSTER].kubernetesVersion = 1.3; }, key: `${CLUSTER}.kubernetesVersion`, says: /got the number 1\.3, not text: write the value in quotes \(e\.g\. "1\.34"\)/ },
    { what: "unquoted zones", edit: (c) => { c[CLUSTER].systemPool.zones = [1, 2, 3]; }, key: `${CLUSTER}.systemPool.zones[0]`, says: /got the number 1, not the text "1": quote it in the stack file; allowed: "1", "2", "3"/ },
    { what: "a quoted node count", edit: (c) => { c[CLUSTER].systemPool.count = "3"; }, key: `${CLUSTER}.systemPool.count`, says: /got the text "3": write the number without quotes/ },
    { what: "an environment kind it does not know", edit: (c) => { c["aks-istio-mesh:environment"] = { kind: "staging" }; }, key: "aks-istio-mesh:environment.kind", says: /"staging" is not allowed; allowed: production, development/ },
    {
        what: "production without TLS",
        edit: (c) => { c["aks-istio-mesh:environment"] = { kind: "production" }; c["aks-istio-mesh:workloads"] = { highAvailability: true }; c["aks-istio-mesh:ingress"].hosts.pets = "shop.contoso.com"; },
        key: "aks-istio-mesh:ingress.tls", says: /is required: the stack's environment .* requires TLS/,
    },
    {
        what: "high availability switched off against the environment",
        edit: (c) => { c["aks-istio-mesh:environment"] = { kind: "development", highAvailability: true }; c["aks-istio-mesh:workloads"] = { highAvailability: false }; },
        key: "aks-istio-mesh:workloads.highAvailability", says: /is false but aks-istio-mesh:environment\.highAvailability is true/,
    },
    {
        what: "an existing cluster with keys of a created one",
        edit: (c) => { c[CLUSTER].existing = { aks: { resourceGroupName: "rg-platform", name: "aks-shared" } }; },
        key: `${CLUSTER}.tier`, says: /describes a cluster this stack creates; with cluster.existing the cluster is not managed here: remove cluster\.tier, cluster\.systemPool/,
    },
    {
        what: "an existing cluster in both forms",
        edit: (c) => { c[CLUSTER] = { kubernetesVersion: "1.34", existing: { aks: { resourceGroupName: "rg", name: "aks" }, kubeconfig: {} } }; },
        key: `${CLUSTER}.existing`, says: /needs exactly one of aks/,
    },
    {
        what: "managed Prometheus and Grafana on a kubeconfig cluster",
        edit: (c) => { c[CLUSTER] = { kubernetesVersion: "1.34", existing: { kubeconfig: {} } }; },
        key: "aks-istio-mesh:observability.enabled", says: /Azure services and with aks-istio-mesh:cluster\.existing\.kubeconfig there is no Azure: set observability\.enabled: false/,
    },
    {
        what: "Key Vault TLS on a kubeconfig cluster",
        edit: (c) => {
            c[CLUSTER] = { kubernetesVersion: "1.34", existing: { kubeconfig: { context: "local" } } };
            c["aks-istio-mesh:observability"] = { enabled: false };
            c["aks-istio-mesh:ingress"] = { hosts: { pets: "shop.contoso.com", bookinfo: "books.contoso.com" }, tls: { keyVaultId: `${ZERO.replace(/0/g, "1")}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-mesh`, certificateName: "c" } };
        },
        key: "aks-istio-mesh:ingress.tls", says: /comes from Azure Key Vault/,
    },
    {
        what: "a cluster reader given by name instead of its principal id",
        edit: (c) => { c[CLUSTER].aad.readerPrincipalIds = ["github-aks-istio-mesh-dev-preview"]; },
        key: `${CLUSTER}.aad.readerPrincipalIds[0]`, says: /GUID|guid|object id/i,
    },
    {
        what: "a cluster reader given as a single id instead of a list",
        edit: (c) => { c[CLUSTER].aad.readerPrincipalIds = "11111111-1111-1111-1111-111111111111"; },
        key: `${CLUSTER}.aad.readerPrincipalIds`, says: /list/,
    },
    {
        what: "local accounts disabled without Entra ID (nobody could sign in)",
        edit: (c) => { delete c[CLUSTER].aad; },
        key: `${CLUSTER}.disableLocalAccounts`, says: /needs cluster\.aad/,
    },
    { what: "a user pool named like the system pool", edit: (c) => { c[CLUSTER].userPools = [{ name: "system" }]; }, key: `${CLUSTER}.userPools[0].name`, says: /"system" is the name of a pool the stack makes itself/ },
    { what: "two user pools of one name", edit: (c) => { c[CLUSTER].userPools = [{ name: "apps" }, { name: "apps" }]; }, key: `${CLUSTER}.userPools`, says: /duplicate pool name "apps"/ },
    { what: "a user pool name AKS refuses", edit: (c) => { c[CLUSTER].userPools = [{ name: "app-pool" }]; }, key: `${CLUSTER}.userPools[0].name`, says: /at most 12 characters/ },
    {
        what: "a user pool whose count lies outside its autoscaler bounds",
        edit: (c) => { c[CLUSTER].userPools = [{ name: "apps", count: 1, autoscaling: { minCount: 2, maxCount: 4 } }]; },
        key: `${CLUSTER}.userPools[0].count`, says: /must lie between autoscaling\.minCount \(2\) and maxCount \(4\); got 1/,
    },
    { what: "a delete lock given as text", edit: (c) => { c[CLUSTER].deleteLock = "yes"; }, key: `${CLUSTER}.deleteLock`, says: /must be true or false/ },
    { what: "a maintenance window shorter than AKS accepts", edit: (c) => { c[CLUSTER].maintenance = { autoUpgrade: { day: "Sunday", startTime: "01:00", durationHours: 2 } }; }, key: `${CLUSTER}.maintenance.autoUpgrade.durationHours`, says: /from 4 to 24; got 2/ },
    { what: "a maintenance day misspelt", edit: (c) => { c[CLUSTER].maintenance = { nodeOs: { day: "sunday", startTime: "01:00" } }; }, key: `${CLUSTER}.maintenance.nodeOs.day`, says: /allowed: Monday/ },
    { what: "a maintenance start time out of range", edit: (c) => { c[CLUSTER].maintenance = { nodeOs: { day: "Sunday", startTime: "25:00" } }; }, key: `${CLUSTER}.maintenance.nodeOs.startTime`, says: /HH:MM/ },
    {
        what: "an auto-upgrade window with the channel off",
        edit: (c) => { c[CLUSTER].upgradeChannel = "none"; c[CLUSTER].maintenance = { autoUpgrade: { day: "Sunday", startTime: "01:00" } }; },
        key: `${CLUSTER}.maintenance.autoUpgrade`, says: /cluster\.upgradeChannel is none/,
    },
    {
        what: "a node OS window on a channel AKS does not schedule",
        edit: (c) => { c[CLUSTER].nodeOsUpgradeChannel = "Unmanaged"; c[CLUSTER].maintenance = { nodeOs: { day: "Sunday", startTime: "01:00" } }; },
        key: `${CLUSTER}.maintenance.nodeOs`, says: /Unmanaged, which AKS does not schedule/,
    },
    { what: "a user pool on an existing cluster", edit: (c) => { c[CLUSTER] = { kubernetesVersion: "1.34", existing: { aks: { resourceGroupName: "rg", name: "aks" } }, userPools: [{ name: "apps" }] }; }, key: `${CLUSTER}.userPools`, says: /describes a cluster this stack creates/ },
    {
        what: "a Pod Security level init containers cannot meet",
        edit: (c) => { c[MESH].proxyRedirection = "InitContainers"; c[MESH].podSecurity = "baseline"; },
        key: `${MESH}.podSecurity`, says: /istio-init container adds NET_ADMIN and NET_RAW, which baseline forbids/,
    },
    { what: "a Pod Security level Kubernetes does not know", edit: (c) => { c[MESH].podSecurity = "strict"; }, key: `${MESH}.podSecurity`, says: /allowed: privileged, baseline, restricted/ },
    { what: "an egress gateway name that is not a DNS label", edit: (c) => { c[MESH].egressGateway = { name: "Mesh_Egress" }; }, key: `${MESH}.egressGateway.name`, says: /not a valid egress gateway name/ },
    {
        what: "more egress gateway nodes than the IP prefix has addresses",
        edit: (c) => { c[MESH].egressGateway = { name: "out", pool: { count: 3, publicIpPrefixSize: 31 } }; },
        key: `${MESH}.egressGateway.pool.count`, says: /must be at most 2: a \/31 prefix has 2 addresses/,
    },
    { what: "an egress IP prefix AKS does not offer", edit: (c) => { c[MESH].egressGateway = { name: "out", pool: { publicIpPrefixSize: 27 } }; }, key: `${MESH}.egressGateway.pool.publicIpPrefixSize`, says: /from 28 to 31/ },
    {
        what: "an egress gateway on an existing cluster",
        edit: (c) => { c[CLUSTER] = { kubernetesVersion: "1.34", existing: { aks: { resourceGroupName: "rg", name: "aks" } } }; c[MESH].egressGateway = { name: "out" }; },
        key: `${MESH}.egressGateway`, says: /az aks mesh enable-egress-gateway/,
    },
    {
        what: "a plug-in CA on an existing cluster's mesh",
        edit: (c) => {
            c[CLUSTER] = { kubernetesVersion: "1.34", existing: { aks: { resourceGroupName: "rg", name: "aks" } } };
            c[MESH].certificateAuthority = { keyVaultId: "/subscriptions/1/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-mesh" };
        },
        key: `${MESH}.certificateAuthority`, says: /cannot switch an existing mesh to a plug-in CA.*create a new cluster with the plug-in CA/,
    },
    {
        what: "a plug-in CA on a kubeconfig cluster",
        edit: (c) => {
            c[CLUSTER] = { kubernetesVersion: "1.34", existing: { kubeconfig: {} } };
            c["aks-istio-mesh:observability"] = { enabled: false };
            c[MESH].certificateAuthority = { keyVaultId: "/subscriptions/1/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-mesh" };
        },
        key: `${MESH}.certificateAuthority`, says: /there is no Azure/,
    },
    { what: "a plug-in CA vault given by name", edit: (c) => { c[MESH].certificateAuthority = { keyVaultId: "kv-mesh" }; }, key: `${MESH}.certificateAuthority.keyVaultId`, says: /a Key Vault resource id/ },
    // A misspelt key names the key it was meant as, not the missing one ("got nothing").
    { what: "a misspelt required key", edit: (c) => { c[CLUSTER].kubernetesVerison = c[CLUSTER].kubernetesVersion; delete c[CLUSTER].kubernetesVersion; }, key: `${CLUSTER}.kubernetesVerison`, says: /unknown key; did you mean kubernetesVersion\?/ },
    { what: "a required list under a singular name", edit: (c) => { c[MESH].revision = c[MESH].revisions; delete c[MESH].revisions; }, key: `${MESH}.revision`, says: /did you mean revisions\?/ },
    { what: "a key in the wrong case", edit: (c) => { c[CLUSTER].systemPool.VmSize = "Standard_D4ds_v5"; }, key: `${CLUSTER}.systemPool.VmSize`, says: /did you mean vmSize\?/ },
    { what: "a misspelt top-level key", edit: (c) => { c["aks-istio-mesh:clusters"] = c[CLUSTER]; delete c[CLUSTER]; }, key: "aks-istio-mesh:clusters", says: /did you mean aks-istio-mesh:cluster\?/ },
    // A wrong port blames the port; a wrong service the service.
    { what: "a call to a port the service lacks", edit: (c) => { c[APPS] = ["pets", { name: "bookinfo", spec: withBookinfo((b) => { b.calls[0].port = 9999; }) }]; }, key: `${APPS}[1].spec.calls[0].port`, says: /details has no port 9999; its port is 9080/ },
    { what: "an ingress route to a port the service lacks", edit: (c) => { c[APPS] = ["pets", { name: "bookinfo", spec: withBookinfo((b) => { b.ingress[0].port = 80; }) }]; }, key: `${APPS}[1].spec.ingress[0].port`, says: /productpage has no port 80/ },
    { what: "an ingress route to a service the app lacks", edit: (c) => { c[APPS] = ["pets", { name: "bookinfo", spec: withBookinfo((b) => { b.ingress[0].service = "product-page"; }) }]; }, key: `${APPS}[1].spec.ingress[0].service`, says: /"product-page" is not a service of bookinfo/ },
    // Suggested fixes are valid values.
    { what: "a duration without unit", edit: (c) => { c[MESH].resilience = { timeout: 5 }; }, key: `${MESH}.resilience.timeout`, says: /got the number 5, not text: write the value in quotes \(e\.g\. "5s"\)/ },
    { what: "a retry timeout without unit", edit: (c) => { c[MESH].resilience = { retries: { perTryTimeout: 2 } }; }, key: `${MESH}.resilience.retries.perTryTimeout`, says: /\(e\.g\. "2s"\)/ },
    { what: "a revision given as a number", edit: (c) => { c[MESH].revisions = [1.3]; }, key: `${MESH}.revisions[0]`, says: /got the number 1\.3, not text: write the value in quotes \(e\.g\. "asm-1-30"\)/ },
    { what: "an app revision given as a number", edit: (c) => { c[APPS] = ["pets", { name: "bookinfo", revision: 1.3 }]; }, key: `${APPS}[1].revision`, says: /\(e\.g\. "asm-1-30"\)/ },
    // A quoted boolean is text, not a contradiction.
    { what: "a quoted boolean", edit: (c) => { c[MESH].ingressGateways.internal = "false"; }, key: `${MESH}.ingressGateways.internal`, says: /got the text "false", not the boolean false: write it without quotes/ },
    { what: "a quoted boolean in capitals", edit: (c) => { c[MESH].faultInjection = "True"; }, key: `${MESH}.faultInjection`, says: /got the text "True", not the boolean true/ },
    // A dotted key written flat is a path for pulumi config set --path.
    { what: "a dotted top-level key written flat", edit: (c) => { c[`${CLUSTER}.tier`] = "Free"; }, key: `${CLUSTER}.tier`, says: /a path written as one key; nest tier under aks-istio-mesh:cluster in the stack file, or set it with pulumi config set --path 'aks-istio-mesh:cluster\.tier' <value>/ },
    { what: "a dotted nested key written flat", edit: (c) => { c[CLUSTER]["systemPool.count"] = 2; }, key: `${CLUSTER}.systemPool.count`, says: /nest count under systemPool .* --path 'aks-istio-mesh:cluster\.systemPool\.count'/ },
    // Contradictions.
    { what: "ingress with both gateways off", edit: (c) => { c[MESH].ingressGateways = { external: false, internal: false }; }, key: `${MESH}.ingressGateways`, says: /switches both the external and the internal gateway off, but aks-istio-mesh:ingress is declared/ },
    { what: "a host for an app the stack does not deploy", edit: (c) => { c[APPS] = ["pets"]; }, key: "aks-istio-mesh:ingress.hosts.bookinfo", says: /"bookinfo" is not an app this stack deploys \(aks-istio-mesh:apps: pets\); add bookinfo/ },
    { what: "a host for an app with no ingress routes", edit: (c) => { c[APPS] = ["pets", { name: "bookinfo", spec: withBookinfo((b) => { b.ingress = []; }) }]; }, key: "aks-istio-mesh:ingress.hosts.bookinfo", says: /app bookinfo has no ingress routes/ },
    { what: "a host for no app at all", edit: (c) => { c["aks-istio-mesh:ingress"].hosts.shop = "shop.dev.internal"; }, key: "aks-istio-mesh:ingress.hosts.shop", says: /"shop" is not an app this stack deploys/ },
    { what: "a misspelt region", edit: (c) => { c["azure-native:location"] = "westeurop"; }, key: "azure-native:location", says: /"westeurop" is not an Azure region; did you mean westeurope\?/ },
    { what: "a region that does not exist", edit: (c) => { c["azure-native:location"] = "europe"; }, key: "azure-native:location", says: /"europe" is not an Azure region/ },
    {
        what: "a call into an app the stack does not deploy",
        edit: (c) => { c[APPS] = ["pets", { name: "board", spec: { ...BOARD, calls: [{ from: "web", to: "bookinfo/ratings", port: 9080 }] } }]; },
        key: `${APPS}[1].spec.calls[0].to`, says: /"bookinfo\/ratings" calls app "bookinfo", which the stack does not deploy; apps: pets, board/,
    },
    {
        what: "a call into another app's service that does not exist",
        edit: (c) => { c[APPS] = ["pets", { name: "board", spec: { ...BOARD, calls: [{ from: "web", to: "pets/storefront", port: 8080 }] } }]; },
        key: `${APPS}[1].spec.calls[0].to`, says: /"storefront" is not a service of pets; services: store-front/,
    },
    {
        what: "a call into another app on a port its service lacks",
        edit: (c) => { c[APPS] = ["pets", { name: "board", spec: { ...BOARD, calls: [{ from: "web", to: "pets/store-front", port: 80 }] } }]; },
        key: `${APPS}[1].spec.calls[0].to`, says: /pets\/store-front has no port 80; its ports: 8080/,
    },
    {
        what: "a call with two slashes",
        edit: (c) => { c[APPS] = ["pets", { name: "board", spec: { ...BOARD, calls: [{ from: "web", to: "pets/store-front/v1", port: 8080 }] } }]; },
        key: `${APPS}[1].spec.calls[0].to`, says: /is not a service name or <app>\/<service>/,
    },
    {
        what: "an external host given as a URL",
        edit: (c) => { c[APPS] = [{ name: "pets", egress: [{ host: "https://api.github.com", port: 443, protocol: "https", from: ["store-front"] }] }]; },
        key: `${APPS}[0].egress[0].host`, says: /is not a DNS name/,
    },
    {
        what: "an external host as a wildcard",
        edit: (c) => { c[APPS] = [{ name: "pets", egress: [{ host: "*.blob.core.windows.net", port: 443, protocol: "https", from: ["store-front"] }] }]; },
        key: `${APPS}[0].egress[0].host`, says: /is a wildcard; name each host/,
    },
    {
        what: "an external host that is a cluster Service",
        edit: (c) => { c[APPS] = [{ name: "pets", egress: [{ host: "ratings.bookinfo.svc.cluster.local", port: 9080, protocol: "http", from: ["store-front"] }] }]; },
        key: `${APPS}[0].egress[0].host`, says: /is a cluster Service, not an external host/,
    },
    {
        what: "an external host without a protocol",
        edit: (c) => { c[APPS] = [{ name: "pets", egress: [{ host: "api.github.com", port: 443, from: ["store-front"] }] }]; },
        key: `${APPS}[0].egress[0].protocol`, says: /is required; one of http, https, tls/,
    },
    {
        what: "an external host called by a service the app lacks",
        edit: (c) => { c[APPS] = [{ name: "pets", egress: [{ host: "api.github.com", port: 443, protocol: "https", from: ["frontend"] }] }]; },
        key: `${APPS}[0].egress[0].from[0]`, says: /"frontend" is not a service of pets/,
    },
    {
        what: "TLS origination on the TLS port itself",
        edit: (c) => { c[APPS] = [{ name: "pets", egress: [{ host: "api.github.com", port: 443, protocol: "http", originateTls: true, from: ["store-front"] }] }]; },
        key: `${APPS}[0].egress[0].port`, says: /is the port the mesh opens TLS on/,
    },
    {
        what: "TLS origination for TLS the caller already speaks",
        edit: (c) => { c[APPS] = [{ name: "pets", egress: [{ host: "db.example.org", port: 5432, protocol: "tls", originateTls: true, from: ["order-service"] }] }]; },
        key: `${APPS}[0].egress[0].originateTls`, says: /needs protocol http/,
    },
    {
        what: "autoscaling beside a fixed replica count",
        edit: (c) => { c[APPS] = [{ name: "board", spec: { ...BOARD, services: [{ ...BOARD.services[0], replicas: 2, autoscaling: { minReplicas: 2, maxReplicas: 4, cpuUtilization: 70 } }] } }]; },
        key: `${APPS}[0].spec.services[0].autoscaling`, says: /replicas would fight over the replica count/,
    },
    {
        what: "autoscaling without a CPU target",
        edit: (c) => { c[APPS] = [{ name: "board", spec: { ...BOARD, services: [{ ...BOARD.services[0], autoscaling: { minReplicas: 2, maxReplicas: 4 } }] } }]; },
        key: `${APPS}[0].spec.services[0].autoscaling.cpuUtilization`, says: /must be an integer from 1 to 100; got nothing/,
    },
    {
        what: "a persistent volume on a Deployment",
        edit: (c) => { c[APPS] = [{ name: "board", spec: { ...BOARD, services: [{ ...BOARD.services[0], volumeClaims: [{ name: "data", mountPath: "/data", size: "1Gi" }] }] } }]; },
        key: `${APPS}[0].spec.services[0].volumeClaims`, says: /needs workload: StatefulSet/,
    },
    {
        what: "an app on the internal ingress gateway the mesh does not enable",
        edit: (c) => { c["aks-istio-mesh:ingress"].gateways = { bookinfo: "internal" }; },
        key: "aks-istio-mesh:ingress.gateways.bookinfo", says: /"internal" needs the internal ingress gateway, which aks-istio-mesh:mesh\.ingressGateways does not enable/,
    },
    {
        what: "an ingress gateway choice spelt as the add-on's mode",
        edit: (c) => { c["aks-istio-mesh:ingress"].gateways = { pets: "External" }; },
        key: "aks-istio-mesh:ingress.gateways.pets", says: /"External" is not allowed; allowed: external, internal, both/,
    },
    {
        what: "a route requiring a token without an issuer",
        edit: (c) => { c[APPS] = [{ name: "board", spec: { ...BOARD, ingress: [{ service: "web", port: 8080, paths: [{ match: "prefix", path: "/" }], requireAuth: true }] } }]; },
        key: `${APPS}[0].spec.ingress[0].requireAuth`, says: /needs an issuer/,
    },
    {
        what: "JSON Web Keys fetched over plain HTTP",
        edit: (c) => { c[APPS] = [{ name: "board", spec: { ...BOARD, auth: { issuer: "https://id.example.org/", jwksUri: "http://id.example.org/keys" }, ingress: [{ service: "web", port: 8080, paths: [{ match: "prefix", path: "/" }], requireAuth: true }] } }]; },
        key: `${APPS}[0].spec.auth.jwksUri`, says: /is not an https URL/,
    },
    {
        what: "one external host in two apps",
        edit: (c) => { c[APPS] = [
            { name: "pets", egress: [{ host: "api.github.com", port: 443, protocol: "https", from: ["store-front"] }] },
            { name: "bookinfo", egress: [{ host: "api.github.com", port: 443, protocol: "https", from: ["ratings"] }] },
        ]; },
        key: `${APPS}[1].egress[0].host`, says: /is already declared by app pets/,
    },
    { what: "a secrets source it does not know", edit: (c) => { c[SECRETS] = { source: "vault" }; }, key: `${SECRETS}.source`, says: /"vault" is not allowed; allowed: generated, config/ },
    {
        what: "passwords from config with one missing",
        edit: (c) => { c[SECRETS] = { source: "config" }; },
        key: `${SECRETS}.values.pets.rabbitmq-credentials.password`, says: /is required with secrets\.source: config; set it with pulumi config set --secret --path 'aks-istio-mesh:secrets\.values\.pets\.rabbitmq-credentials\.password' <value>/,
    },
    { what: "a secret value for an app the stack does not run", edit: (c) => { c[SECRETS] = { values: { shop: { db: { password: "x" } } } }; }, key: `${SECRETS}.values.shop`, says: /"shop" is not an app of this stack; apps: pets, bookinfo/ },
    { what: "a secret value for a secret the app does not have", edit: (c) => { c[SECRETS] = { values: { pets: { rabbit: { password: "x" } } } }; }, key: `${SECRETS}.values.pets.rabbit`, says: /its secrets with password keys: rabbitmq/ },
    { what: "a secret value for a literal key", edit: (c) => { c[SECRETS] = { values: { pets: { "rabbitmq-credentials": { username: "x" } } } }; }, key: `${SECRETS}.values.pets.rabbitmq-credentials.username`, says: /is not a password key of secret rabbitmq-credentials; its password keys: password/ },
    {
        what: "a secret value that is not text, without echoing it",
        edit: (c) => { c[SECRETS] = { values: { pets: { "rabbitmq-credentials": { password: 12345678 } } } }; },
        key: `${SECRETS}.values.pets.rabbitmq-credentials.password`, says: /^(?!.*12345678).*must be text set with pulumi config set --secret/,
    },
    { what: "an empty secret value", edit: (c) => { c[SECRETS] = { values: { pets: { "rabbitmq-credentials": { password: "" } } } }; }, key: `${SECRETS}.values.pets.rabbitmq-credentials.password`, says: /must not be empty/ },
];

describe("bad config corpus: exit 2, one line naming the key the user must change", () => {
    let root: string;
    before(() => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "bad-config-"));
        fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(root, "Pulumi.yaml"));
        fs.mkdirSync(path.join(root, "policy-pack", "config"), { recursive: true });
    });
    after(() => fs.rmSync(root, { recursive: true, force: true }));

    /** The dev stack file with `edit` applied, written as the stack file `Pulumi.<stack>.yaml`. */
    function stackFile(stack: string, edit: (c: Config) => void): void {
        const file = parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8"));
        edit(file.config);
        fs.writeFileSync(path.join(root, `Pulumi.${stack}.yaml`), stringify(file));
    }

    CORPUS.forEach(({ what, edit, key, says }, i) => {
        it(`refuses ${what}`, () => {
            stackFile(`bad${i}`, edit);
            const r = run(["--check", `bad${i}`], root);
            assert.strictEqual(r.code, 2, r.stderr || r.stdout);
            assert.ok(r.stderr.startsWith(`error: stack bad${i}: ${key}: `), `should name ${key}: ${r.stderr}`);
            assert.match(r.stderr, says);
            assert.strictEqual(r.stderr.trimEnd().split("\n").length, 1, `one line, no stack trace: ${r.stderr}`);
        });
    });

    for (const [word, says] of [["configs", /unknown key; did you mean config\?/], ["Config", /did you mean config\?/], ["settings", /unknown key; allowed keys: config, /]] as const) {
        it(`refuses a stack file whose top-level word is ${word}: instead of config:, naming that word`, () => {
            const file = parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8"));
            fs.writeFileSync(path.join(root, `Pulumi.top-${word}.yaml`), stringify({ [word]: file.config }));
            const r = run(["--check", `top-${word}`], root);
            assert.strictEqual(r.code, 2, r.stderr || r.stdout);
            assert.ok(r.stderr.startsWith(`error: stack top-${word}: Pulumi.top-${word}.yaml: ${word}: `), r.stderr);
            assert.match(r.stderr, says);
            assert.strictEqual(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
        });
    }

    it("reads a list set with pulumi config set as text ('[pets, bookinfo]') as the list it holds", () => {
        stackFile("text", (c) => { c[APPS] = "[pets, bookinfo]"; c[MESH] = JSON.stringify(c[MESH]); });
        const values = { ...parse(fs.readFileSync(path.join(root, "Pulumi.text.yaml"), "utf8")).config };
        assert.strictEqual(typeof values[APPS], "string", "the corpus must store the list as text");
        const config = parseStackConfig("text", values);
        assert.deepStrictEqual(config.apps.map((a) => a.spec.name), ["pets", "bookinfo"]);
        assert.deepStrictEqual(config.mesh.revisions, ["asm-1-30"]);
    });
});
