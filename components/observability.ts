import * as pulumi from "@pulumi/pulumi";
import * as alertsmanagement from "@pulumi/azure-native/alertsmanagement";
import * as authorization from "@pulumi/azure-native/authorization";
import * as dashboard from "@pulumi/azure-native/dashboard";
import * as monitor from "@pulumi/azure-native/monitor";
import { AlertsConfig, goldenSignalRules } from "./metrics";
import { roleDefinitionId, ROLES } from "./roles";

/** An Azure resource name from a prefix and the cluster name, cut to the type's length limit. */
export function azureName(prefix: string, clusterName: string, max: number): string {
    return `${prefix}-${clusterName}`.slice(0, max).replace(/-+$/, "");
}

/** The stream the metrics add-on forwards and the workspace ingests. */
export const PROMETHEUS_STREAM = "Microsoft-PrometheusMetrics";

/** Arguments of {@link Observability}. */
export interface ObservabilityArgs {
    /** Azure region of the resources. */
    readonly location: pulumi.Input<string>;
    /** Resource group of the cluster; the monitoring resources live beside it. */
    readonly resourceGroupName: pulumi.Input<string>;
    /** The cluster's name (names the resources and scopes the alert rules to its series). */
    readonly clusterName: string;
    /** The cluster's resource id: the association's target and an alert rule scope. */
    readonly clusterId: pulumi.Input<string>;
    readonly grafana: {
        /** Azure Managed Grafana SKU. */
        readonly sku: pulumi.Input<string>;
        /** Grafana major version. */
        readonly majorVersion: pulumi.Input<string>;
        /** Entra ID users or groups made Grafana Admin. */
        readonly adminObjectIds: readonly string[];
    };
    /** Thresholds of the golden-signal alerts. */
    readonly alerts: AlertsConfig;
    /** Tags for the Azure resources. */
    readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * Azure Monitor managed Prometheus for the cluster and what reads it: an Azure Monitor workspace,
 * the data collection endpoint and rule that forward the metrics add-on's Prometheus stream into
 * it, the rule's association with the cluster, Azure Managed Grafana linked to the workspace (its
 * identity may read it), and the mesh's golden-signal alert rules.
 *
 * The cluster itself must run the metrics add-on (`azureMonitorProfile.metrics.enabled`).
 */
export class Observability extends pulumi.ComponentResource {
    public readonly workspaceId: pulumi.Output<string>;
    /** PromQL endpoint of the workspace (Entra ID auth, audience https://prometheus.monitor.azure.com). */
    public readonly queryEndpoint: pulumi.Output<string>;
    public readonly grafanaUrl: pulumi.Output<string>;

    constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
        super("aks-istio-mesh:observability:Observability", name, {}, opts);
        const { location, resourceGroupName, tags } = args;
        const base = { location, resourceGroupName, tags };

        const workspace = new monitor.AzureMonitorWorkspace(`${name}-workspace`, {
            ...base,
            azureMonitorWorkspaceName: azureName("amw", args.clusterName, 44),
        }, { parent: this });

        const dce = new monitor.DataCollectionEndpoint(`${name}-dce`, {
            ...base,
            dataCollectionEndpointName: azureName("msprom", args.clusterName, 44),
            kind: "Linux",
            networkAcls: { publicNetworkAccess: "Enabled" },
        }, { parent: this });

        const destination = "MonitoringAccount";
        const dcr = new monitor.DataCollectionRule(`${name}-dcr`, {
            ...base,
            dataCollectionRuleName: azureName("msprom", args.clusterName, 64),
            kind: "Linux",
            dataCollectionEndpointId: dce.id,
            dataSources: { prometheusForwarder: [{ name: "PrometheusDataSource", streams: [PROMETHEUS_STREAM], labelIncludeFilter: {} }] },
            destinations: { monitoringAccounts: [{ name: destination, accountResourceId: workspace.id }] },
            dataFlows: [{ streams: [PROMETHEUS_STREAM], destinations: [destination] }],
        }, { parent: this });

        new monitor.DataCollectionRuleAssociation(`${name}-dcra`, {
            associationName: azureName("msprom", args.clusterName, 64),
            resourceUri: args.clusterId,
            dataCollectionRuleId: dcr.id,
            description: "Sends the cluster's managed Prometheus metrics to its Azure Monitor workspace; deleting it stops metric collection.",
        }, { parent: this });

        const grafana = new dashboard.Grafana(`${name}-grafana`, {
            ...base,
            workspaceName: azureName("amg", args.clusterName, 23),
            sku: { name: args.grafana.sku },
            identity: { type: "SystemAssigned" },
            properties: {
                grafanaMajorVersion: args.grafana.majorVersion,
                publicNetworkAccess: "Enabled",
                apiKey: "Disabled",
                grafanaIntegrations: { azureMonitorWorkspaceIntegrations: [{ azureMonitorWorkspaceResourceId: workspace.id }] },
            },
        }, { parent: this });

        // The integration only registers the data source; Grafana queries with its own identity.
        new authorization.RoleAssignment(`${name}-grafana-reader`, {
            scope: workspace.id,
            principalId: grafana.identity.apply((i) => i?.principalId ?? ""),
            principalType: "ServicePrincipal",
            roleDefinitionId: roleDefinitionId(workspace.id, ROLES.monitoringDataReader),
        }, { parent: this });
        args.grafana.adminObjectIds.forEach((objectId, i) => new authorization.RoleAssignment(`${name}-grafana-admin-${i}`, {
            scope: grafana.id,
            principalId: objectId,
            roleDefinitionId: roleDefinitionId(grafana.id, ROLES.grafanaAdmin),
        }, { parent: this }));

        const actions = args.alerts.actionGroupId ? [{ actionGroupId: args.alerts.actionGroupId }] : undefined;
        new alertsmanagement.PrometheusRuleGroup(`${name}-alerts`, {
            ...base,
            ruleGroupName: azureName("mesh-golden-signals", args.clusterName, 260),
            description: "Golden signals of the Istio mesh: 5xx rate and p99 latency per service, istiod availability, sidecar CPU.",
            clusterName: args.clusterName,
            scopes: [workspace.id, args.clusterId],
            interval: "PT1M",
            enabled: true,
            rules: goldenSignalRules(args.alerts).map((r) => ({
                ...r,
                enabled: true,
                actions,
                resolveConfiguration: { autoResolved: true, timeToResolve: "PT10M" },
            })),
        }, { parent: this });

        this.workspaceId = workspace.id;
        this.queryEndpoint = workspace.metrics.apply((m) => m.prometheusQueryEndpoint);
        this.grafanaUrl = grafana.properties.apply((p) => p.endpoint);
        this.registerOutputs({ workspaceId: this.workspaceId, queryEndpoint: this.queryEndpoint, grafanaUrl: this.grafanaUrl });
    }
}
