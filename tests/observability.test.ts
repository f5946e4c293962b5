import * as assert from "assert";
import { parse } from "yaml";
import { KIALI_CHART, KIALI_NAMESPACE, KIALI_PROMETHEUS_URL } from "../components/kiali";
import { goldenSignalRules, ISTIOD_JOB, PROXY_JOB, SCRAPE_CONFIG_MAP } from "../components/metrics";
import { ROLES } from "../components/roles";
import { TRACING_PROVIDER } from "../components/telemetry";
import { ROOT_NAMESPACE } from "../policy-pack/lib/aks";
import type { KubeObject } from "../policy-pack/rules/types";
import { loadSchemaBundle, schemaDirForRevision, validateObjects } from "../tools/schema";
import { assertRefused, configValues, kubeObjects, ofType, one, parseStackConfig, stackConfig, stackRun, stacksWhere, variantRun } from "./helpers";

const OBS = "aks-istio-mesh:observability";
const STREAM = "Microsoft-PrometheusMetrics";
const T = {
    workspace: "azure-native:monitor:AzureMonitorWorkspace",
    dce: "azure-native:monitor:DataCollectionEndpoint",
    dcr: "azure-native:monitor:DataCollectionRule",
    dcra: "azure-native:monitor:DataCollectionRuleAssociation",
    grafana: "azure-native:dashboard:Grafana",
    rules: "azure-native:alertsmanagement:PrometheusRuleGroup",
    role: "azure-native:authorization:RoleAssignment",
    identity: "azure-native:managedidentity:UserAssignedIdentity",
    federation: "azure-native:managedidentity:FederatedIdentityCredential",
    cluster: "azure-native:containerservice:ManagedCluster",
    release: "kubernetes:helm.sh/v3:Release",
};
type Run = Awaited<ReturnType<typeof stackRun>>;
type Obj = Record<string, any>;

const inputs = (run: Run, type: string): Obj => one(run, type).inputs as Obj;
const idOf = (run: Run, type: string): string => one(run, type).id!;
const named = (objs: Obj[], ns: string, name: string) => objs.find((o) => o.metadata.namespace === ns && o.metadata.name === name);
const roleOn = (run: Run, scope: string, role: string) => ofType(run, T.role).filter((r) => r.inputs.scope === scope && String(r.inputs.roleDefinitionId).endsWith(`/${role}`));
const istioObjects = (run: Run) => run.resources.filter((r) => r.type.startsWith("kubernetes:") && /\.istio\.io\//.test(String(r.inputs.apiVersion))).map((r) => r.inputs as KubeObject);

/** Asserts the stack-config edit is refused with one message that starts with `key` and says `says`. */
function refused(edit: (o: Obj) => void, key: string, says: RegExp): void {
    assertRefused(() => parseStackConfig("dev", configValues("dev", (v) => { v[OBS] = {}; edit(v[OBS]); })), `${OBS}.${key}`, says);
}

describe("observability", () => {
    const bundle = loadSchemaBundle(schemaDirForRevision("asm-1-30"));

    for (const stack of stacksWhere((c) => c.observability.enabled)) {
        describe(`${stack} stack (on by default)`, () => {
            it("runs the metrics add-on and ships its Prometheus stream: workspace ← DCR ← DCE, associated with the cluster", async () => {
                const run = await stackRun(stack);
                assert.deepStrictEqual(inputs(run, T.cluster).azureMonitorProfile, { metrics: { enabled: true } });
                const dcr = inputs(run, T.dcr);
                assert.strictEqual(dcr.dataCollectionEndpointId, idOf(run, T.dce));
                assert.deepStrictEqual(dcr.dataSources.prometheusForwarder.map((s: Obj) => s.streams), [[STREAM]]);
                const [account] = dcr.destinations.monitoringAccounts;
                assert.strictEqual(account.accountResourceId, idOf(run, T.workspace));
                assert.deepStrictEqual(dcr.dataFlows, [{ streams: [STREAM], destinations: [account.name] }]);
                const dcra = inputs(run, T.dcra);
                assert.strictEqual(dcra.resourceUri, idOf(run, T.cluster));
                assert.strictEqual(dcra.dataCollectionRuleId, idOf(run, T.dcr));
                assert.ok(idOf(run, T.workspace).endsWith(`/providers/Microsoft.Monitor/accounts/amw-${stackConfig(stack).cluster.name}`), idOf(run, T.workspace));
            });

            it("links Managed Grafana to the workspace and lets its identity read it", async () => {
                const run = await stackRun(stack);
                const grafana = one(run, T.grafana);
                const g = grafana.inputs as Obj;
                // Azure Managed Grafana retired 11 (upgrading instances to 12 for good): 12 unless a stack says otherwise.
                assert.strictEqual(g.properties.grafanaMajorVersion, "12");
                assert.deepStrictEqual(g.identity, { type: "SystemAssigned" });
                assert.deepStrictEqual(g.properties.grafanaIntegrations.azureMonitorWorkspaceIntegrations, [{ azureMonitorWorkspaceResourceId: idOf(run, T.workspace) }]);
                const readers = roleOn(run, idOf(run, T.workspace), ROLES.monitoringDataReader).filter((r) => r.dependencies.includes(grafana.urn));
                assert.strictEqual(readers.length, 1, "Grafana's identity reads the workspace");
                assert.strictEqual(readers[0].inputs.principalType, "ServicePrincipal");
                assert.match(String(readers[0].inputs.principalId), /^[0-9a-f-]{36}$/);
                assert.match(String(run.outputs.grafanaUrl), new RegExp(`^https://amg-${stackConfig(stack).cluster.name}-[0-9a-f]{8}\\.\\w+\\.grafana\\.azure\\.com$`));
            });

            it("alerts on the golden signals, scoped to the workspace and the cluster, with the stack's thresholds", async () => {
                const run = await stackRun(stack);
                const group = inputs(run, T.rules);
                assert.deepStrictEqual(group.scopes, [idOf(run, T.workspace), idOf(run, T.cluster)]);
                assert.strictEqual(group.clusterName, stackConfig(stack).cluster.name);
                assert.deepStrictEqual(group.rules.map((r: Obj) => r.alert), ["MeshServiceErrorRate", "MeshServiceLatencyP99", "IstiodUnavailable", "SidecarCpuHigh"]);
                const t = parseStackConfig(stack, configValues(stack)).observability.alerts;
                assert.deepStrictEqual(group.rules.map((r: Obj) => r.expression.split(" ").pop()), [t.errorRatePercent, t.latencyP99Ms, t.istiodMinUp, t.sidecarCpuMillicores].map(String));
                assert.ok(group.rules.every((r: Obj) => r.for === `PT${t.forMinutes}M` && r.enabled && r.actions === undefined));
            });

            it("scrapes istiod and the sidecars through the metrics add-on's ConfigMap", async () => {
                const cm = named(kubeObjects(await stackRun(stack), "ConfigMap"), SCRAPE_CONFIG_MAP.namespace, SCRAPE_CONFIG_MAP.name)!;
                const jobs = parse(cm.data[SCRAPE_CONFIG_MAP.key]).scrape_configs;
                assert.deepStrictEqual(jobs.map((j: Obj) => j.job_name), [ISTIOD_JOB, PROXY_JOB]);
                assert.deepStrictEqual(jobs[0].kubernetes_sd_configs, [{ role: "endpoints", namespaces: { names: [ROOT_NAMESPACE] } }]);
                assert.strictEqual(jobs[0].relabel_configs[0].regex, "istiod;http-monitoring");
                assert.deepStrictEqual(jobs[1].relabel_configs[0], { source_labels: ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"], regex: "true", action: "keep" });
            });

            it("writes access logs once: Telemetry with the envoy provider mesh-wide, none from MeshConfig", async () => {
                const run = await stackRun(stack);
                const [telemetry] = kubeObjects(run, "Telemetry");
                assert.deepStrictEqual([telemetry.apiVersion, telemetry.metadata], ["telemetry.istio.io/v1", { name: "mesh-default", namespace: ROOT_NAMESPACE }]);
                assert.deepStrictEqual(telemetry.spec, { accessLogging: [{ providers: [{ name: "envoy" }] }] });
                const mesh = parse(named(kubeObjects(run, "ConfigMap"), ROOT_NAMESPACE, "istio-shared-configmap-asm-1-30")!.data.mesh);
                assert.strictEqual(mesh.accessLogFile, "");
            });

            it("installs Kiali from its pinned chart, reading the workspace through the Entra ID query proxy", async () => {
                const run = await stackRun(stack);
                const release = inputs(run, T.release);
                assert.deepStrictEqual([release.chart, release.repositoryOpts.repo, release.namespace], [KIALI_CHART.chart, "https://kiali.org/helm-charts", KIALI_NAMESPACE]);
                assert.match(release.version, /^\d+\.\d+\.\d+$/);
                assert.strictEqual(release.values.external_services.prometheus.url, KIALI_PROMETHEUS_URL);
                assert.strictEqual(release.values.auth.strategy, stackConfig(stack).observability.kiali.auth);

                const service = named(kubeObjects(run, "Service"), KIALI_NAMESPACE, "prometheus-query-proxy")!;
                assert.strictEqual(KIALI_PROMETHEUS_URL, `http://${service.metadata.name}.${KIALI_NAMESPACE}.svc.cluster.local`);
                assert.deepStrictEqual(service.spec.ports, [{ name: "http", port: 80, targetPort: 8082 }]);
                const proxy = named(kubeObjects(run, "Deployment"), KIALI_NAMESPACE, "prometheus-query-proxy")!;
                assert.deepStrictEqual(service.spec.selector, proxy.spec.selector.matchLabels);
                const env = Object.fromEntries(proxy.spec.template.spec.containers[0].env.map((e: Obj) => [e.name, e.value]));
                assert.strictEqual(env.TARGET_HOST, run.outputs.prometheusQueryEndpoint);
                assert.match(String(env.TARGET_HOST), /^https:\/\/amw-.*\.westeurope\.prometheus\.monitor\.azure\.com$/);
                assert.strictEqual(env.AUDIENCE, "https://prometheus.monitor.azure.com/.default");
                assert.strictEqual(proxy.spec.replicas, stackConfig(stack).workloads.highAvailability ? 2 : 1);
            });

            it("gives the proxy a workload identity: federated with the cluster's issuer, reader on the workspace", async () => {
                const run = await stackRun(stack);
                const identity = one(run, T.identity);
                const fed = inputs(run, T.federation);
                assert.match(fed.issuer, /^https:\/\/westeurope\.oic\.prod-aks\.azure\.com\//);
                assert.deepStrictEqual([fed.subject, fed.audiences], [`system:serviceaccount:${KIALI_NAMESPACE}:prometheus-query-proxy`, ["api://AzureADTokenExchange"]]);
                assert.strictEqual(roleOn(run, idOf(run, T.workspace), ROLES.monitoringDataReader).filter((r) => r.dependencies.includes(identity.urn)).length, 1);
                const sa = named(kubeObjects(run, "ServiceAccount"), KIALI_NAMESPACE, "prometheus-query-proxy")!;
                assert.match(sa.metadata.annotations["azure.workload.identity/client-id"], /^[0-9a-f-]{36}$/);
                const proxy = named(kubeObjects(run, "Deployment"), KIALI_NAMESPACE, "prometheus-query-proxy")!;
                assert.strictEqual(proxy.spec.template.metadata.labels["azure.workload.identity/use"], "true");
                assert.strictEqual(proxy.spec.template.spec.serviceAccountName, sa.metadata.name);
            });

            it("keeps Kiali in the mesh and off the network: STRICT, allow-nothing plus Kiali → proxy, port-forward only", async () => {
                const run = await stackRun(stack);
                const ns = kubeObjects(run, "Namespace").find((n) => n.metadata.name === KIALI_NAMESPACE)!;
                assert.strictEqual(ns.metadata.labels["istio.io/rev"], "asm-1-30");
                const inKiali = (kind: string) => kubeObjects(run, kind).filter((o) => o.metadata.namespace === KIALI_NAMESPACE);
                assert.deepStrictEqual(inKiali("PeerAuthentication").map((p) => p.spec), [{ mtls: { mode: "STRICT" } }]);
                assert.deepStrictEqual(inKiali("AuthorizationPolicy").map((a) => [a.metadata.name, a.spec.rules?.[0]]), [
                    ["allow-nothing", undefined],
                    ["allow-prometheus-query-proxy", { from: [{ source: { principals: ["cluster.local/ns/kiali/sa/kiali"] } }], to: [{ operation: { ports: ["8082"] } }] }],
                ]);
                assert.deepStrictEqual([inKiali("Gateway"), inKiali("VirtualService")], [[], []]);
                assert.ok(inKiali("Service").every((s) => s.spec.type === "ClusterIP"));
                const values = inputs(run, T.release).values;
                assert.deepStrictEqual([values.deployment.service_type, values.deployment.ingress], ["ClusterIP", { enabled: false }]);
                assert.strictEqual(run.outputs.kialiPortForward, "kubectl -n kiali port-forward svc/kiali 20001:20001");
            });

            it("lets Kiali and the proxy out only to the API server and the two Azure hosts, under the stack's outbound policy", async () => {
                const run = await stackRun(stack);
                const [sidecar] = kubeObjects(run, "Sidecar").filter((s) => s.metadata.namespace === KIALI_NAMESPACE);
                assert.deepStrictEqual(sidecar.spec.egress, [{ hosts: ["./*", `${ROOT_NAMESPACE}/*`, "default/kubernetes.default.svc.cluster.local"] }]);
                assert.deepStrictEqual(sidecar.spec.outboundTrafficPolicy, { mode: stackConfig(stack).mesh.outboundTrafficPolicy });
                const [se] = kubeObjects(run, "ServiceEntry").filter((s) => s.metadata.namespace === KIALI_NAMESPACE);
                assert.deepStrictEqual(se.spec.hosts, [new URL(String(run.outputs.prometheusQueryEndpoint)).hostname, "login.microsoftonline.com"]);
                assert.deepStrictEqual([se.metadata.namespace, se.spec.exportTo, se.spec.location], [KIALI_NAMESPACE, ["."], "MESH_EXTERNAL"]);
            });

            it("renders its Istio objects the asm-1-30 CRDs accept", async () => {
                assert.ok(bundle, "the Istio 1.30 schema bundle is present");
                const objs = istioObjects(await stackRun(stack));
                assert.ok(["Telemetry", "ServiceEntry"].every((k) => objs.some((o) => o.kind === k)));
                assert.deepStrictEqual(validateObjects(objs, bundle), []);
            });
        });
    }

    it("takes thresholds and an action group from config", async () => {
        const actionGroupId = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ops/providers/Microsoft.Insights/actionGroups/oncall";
        const run = await variantRun("dev", (v) => {
            v[OBS] = { alerts: { errorRatePercent: 2.5, latencyP99Ms: 750, istiodMinUp: 2, sidecarCpuMillicores: 300, forMinutes: 10, actionGroupId } };
        });
        const rules = inputs(run, T.rules).rules as Obj[];
        assert.deepStrictEqual(rules.map((r) => r.expression.split(" ").pop()), ["2.5", "750", "2", "300"]);
        assert.ok(rules.every((r) => r.for === "PT10M" && r.actions[0].actionGroupId === actionGroupId));
        assert.strictEqual(rules[0].annotations.threshold, "observability.alerts.errorRatePercent = 2.5");
    });

    it("derives each alert from its threshold alone", () => {
        const rules = goldenSignalRules({ errorRatePercent: 1, latencyP99Ms: 200, istiodMinUp: 1, sidecarCpuMillicores: 100, forMinutes: 1 });
        assert.match(rules[0].expression, /response_code=~"5\.\."/);
        assert.match(rules[1].expression, /^histogram_quantile\(0\.99, .*istio_request_duration_milliseconds_bucket\{reporter="destination"\}/);
        assert.strictEqual(rules[2].expression, `(sum(up{job="${ISTIOD_JOB}"}) or vector(0)) < 1`);
        assert.match(rules[3].expression, /container="istio-proxy"/);
    });

    it("traces through the configured OpenTelemetry collector at the configured rate", async () => {
        const collector = { service: "otel-collector.observability.svc.cluster.local", port: 4317 };
        const run = await variantRun("prod", (v) => { v[OBS] = { tracing: { samplingPercent: 2.5, collector } }; });
        const mesh = parse(named(kubeObjects(run, "ConfigMap"), ROOT_NAMESPACE, "istio-shared-configmap-asm-1-30")!.data.mesh);
        assert.deepStrictEqual(mesh.extensionProviders, [{ name: TRACING_PROVIDER, opentelemetry: collector }]);
        const [telemetry] = kubeObjects(run, "Telemetry");
        assert.deepStrictEqual(telemetry.spec.tracing, [{ providers: [{ name: TRACING_PROVIDER }], randomSamplingPercentage: 2.5 }]);
        for (const sidecar of kubeObjects(run, "Sidecar").filter((s) => ["pets", "bookinfo"].includes(s.metadata.namespace))) {
            assert.ok(sidecar.spec.egress[0].hosts.includes("observability/otel-collector.observability.svc.cluster.local"),
                `${sidecar.metadata.namespace}'s proxies could not reach the collector`);
        }
        assert.deepStrictEqual(validateObjects(istioObjects(run), bundle!), []);
    });

    it("switched off, leaves nothing behind: no monitoring, Grafana, alerts, Kiali or Telemetry, no azureMonitorProfile", async () => {
        const run = await variantRun("prod", (v) => { v[OBS] = { enabled: false }; });
        const left = run.resources.filter((r) => /^azure-native:(monitor|dashboard|alertsmanagement|managedidentity):/.test(r.type) || r.type === T.release);
        assert.deepStrictEqual(left.map((r) => r.type), []);
        assert.ok(ofType(run, T.role).every((r) => String(r.inputs.scope).includes("Microsoft.KeyVault")), "only the ingress certificate's role remains");
        assert.strictEqual(inputs(run, T.cluster).azureMonitorProfile, undefined);
        assert.deepStrictEqual(["Telemetry", "ServiceEntry"].flatMap((k) => kubeObjects(run, k)), []);
        assert.deepStrictEqual(run.resources.filter((r) => (r.inputs as Obj).metadata?.namespace === "kube-system" || (r.inputs as Obj).metadata?.name === KIALI_NAMESPACE), []);
        const mesh = parse(named(kubeObjects(run, "ConfigMap"), ROOT_NAMESPACE, "istio-shared-configmap-asm-1-30")!.data.mesh);
        assert.strictEqual(mesh.accessLogFile, "/dev/stdout", "MeshConfig writes the access logs again");
        assert.deepStrictEqual([run.outputs.grafanaUrl, run.outputs.prometheusQueryEndpoint, run.outputs.kialiPortForward], [undefined, undefined, undefined]);
    });

    it("can drop Kiali alone and keep the Azure side", async () => {
        const run = await variantRun("dev", (v) => { v[OBS] = { kiali: { enabled: false } }; });
        assert.deepStrictEqual([...ofType(run, T.release), ...ofType(run, T.identity)], []);
        assert.strictEqual(ofType(run, T.dcra).length, 1);
        assert.strictEqual(run.outputs.kialiPortForward, undefined);
    });

    describe("refuses bad observability config, naming the key", () => {
        it("a switch that is not a boolean", () => refused((o) => { o.enabled = "yes"; }, "enabled", /must be true or false/));
        it("an unknown key", () => refused((o) => { o.alerts = { errorRate: 5 }; }, "alerts.errorRate", /unknown key; allowed keys: errorRatePercent/));
        it("a 5xx share outside 0–100", () => refused((o) => { o.alerts = { errorRatePercent: 150 }; }, "alerts.errorRatePercent", /from 0\.01 to 100/));
        it("a latency that is not a whole number", () => refused((o) => { o.alerts = { latencyP99Ms: 12.5 }; }, "alerts.latencyP99Ms", /integer/));
        it("an action group that is not one", () => refused((o) => { o.alerts = { actionGroupId: "oncall" }; }, "alerts.actionGroupId", /action group resource id/));
        it("tracing without a collector", () => refused((o) => { o.tracing = { samplingPercent: 1 }; }, "tracing.collector", /is required/));
        it("a sampling rate above 100", () => refused((o) => { o.tracing = { samplingPercent: 101, collector: { service: "otel.obs.svc.cluster.local", port: 4317 } }; }, "tracing.samplingPercent", /from 0 to 100/));
        it("a Kiali login it does not offer", () => refused((o) => { o.kiali = { auth: "openid" }; }, "kiali.auth", /allowed: token, anonymous/));
        it("an unpinned chart", () => refused((o) => { o.kiali = { chartVersion: "latest" }; }, "kiali.chartVersion", /chart version/));
        it("a Grafana SKU Azure does not sell", () => refused((o) => { o.grafana = { sku: "Free" }; }, "grafana.sku", /allowed: Standard, Essential/));
    });
});
