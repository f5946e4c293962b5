/**
 * Shared shapes of the policy rules. Rules are pure functions over plain objects; the CrossGuard
 * pack, the offline preview and the YAML check are adapters that build these inputs.
 */

/** A Kubernetes object as applied to the cluster (apiVersion, kind, metadata, spec, ...). */
export interface KubeObject {
    apiVersion?: string;
    kind?: string;
    metadata?: {
        name?: string;
        namespace?: string;
        labels?: Record<string, string>;
        annotations?: Record<string, string>;
        [key: string]: unknown;
    };
    [key: string]: unknown;
}

/**
 * An AKS ManagedCluster as a plain object: `kind: "ManagedCluster"`, the Pulumi resource name in
 * `metadata.name`, and the ARM properties (the azure-native inputs) in `properties`.
 */
export interface ManagedClusterObject extends KubeObject {
    apiVersion: "containerservice.azure.com/v1";
    kind: "ManagedCluster";
    properties: Record<string, unknown>;
}

/** Any Azure resource a rule reads (ManagedCluster, AgentPool, MaintenanceConfiguration, ManagementLock), the same way. */
export interface AzureObject extends KubeObject {
    apiVersion: string;
    kind: string;
    properties: Record<string, unknown>;
}

export type EnforcementLevel = "mandatory" | "advisory" | "disabled";
export type Severity = "low" | "medium" | "high" | "critical";

/** One finding, as every front door reports it. */
export interface Violation {
    /** Policy name, e.g. `peer-authentication-strict`. */
    policy: string;
    /** The istioctl analyze code the rule mirrors, e.g. `IST0101`. */
    code?: string;
    enforcement: EnforcementLevel;
    severity: Severity;
    kind: string;
    namespace?: string;
    name?: string;
    message: string;
}
