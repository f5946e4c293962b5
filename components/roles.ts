import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";

/** Built-in Azure role definitions the program assigns (ids are the same in every tenant). */
export const ROLES = {
    monitoringDataReader: "b0d8363b-8ddd-447d-831f-62ca05bff136",
    grafanaAdmin: "22926164-76b3-42b3-bc55-97df8dab3e41",
    /** Read secret contents: a Key Vault certificate's key and chain. */
    keyVaultSecretsUser: "4633458b-17de-408a-b874-0445c86b69e6",
    /** Read every Azure resource in the scope (no data actions, no secrets). */
    reader: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    /** List the cluster's user kubeconfig; on an Entra ID cluster it carries no Kubernetes rights of its own. */
    aksClusterUser: "4abbcc35-e782-43d8-92c5-2d3f1bd2253f",
    /** Read Kubernetes objects (not Secrets) through Azure RBAC. */
    aksRbacReader: "7f6c6a51-bcf8-42ba-9220-52d62157d7db",
} as const;

/**
 * What a cluster reader (a CI preview identity) gets, and on which of the stack's own resources: enough for
 * `pulumi preview` (and `--refresh`) to read Azure and the cluster, nothing that writes or reads a Secret.
 */
export const CLUSTER_READER_ROLES = [
    { role: ROLES.reader, scope: "resourceGroup" },
    { role: ROLES.aksClusterUser, scope: "cluster" },
    { role: ROLES.aksRbacReader, scope: "cluster" },
] as const;

/** The subscription-level id of a built-in role, in the subscription of the resource `scopeId`. */
export function roleDefinitionId(scopeId: pulumi.Input<string>, role: string): pulumi.Output<string> {
    return pulumi.output(scopeId).apply((id) => `/subscriptions/${id.split("/")[2]}/providers/Microsoft.Authorization/roleDefinitions/${role}`);
}

/**
 * Assigns {@link CLUSTER_READER_ROLES} to each service principal, scoped to this stack's resource group and
 * cluster only (children `${name}-reader-<i>-<role>` of `parent`).
 */
export function assignClusterReaders(name: string, scopes: { resourceGroup: pulumi.Input<string>; cluster: pulumi.Input<string> },
    principalIds: readonly string[], parent: pulumi.Resource): authorization.RoleAssignment[] {
    const suffix = { [ROLES.reader]: "rg-reader", [ROLES.aksClusterUser]: "cluster-user", [ROLES.aksRbacReader]: "rbac-reader" } as const;
    return principalIds.flatMap((principalId, i) => CLUSTER_READER_ROLES.map(({ role, scope }) =>
        new authorization.RoleAssignment(`${name}-reader-${i}-${suffix[role]}`, {
            principalId,
            principalType: "ServicePrincipal",
            scope: scopes[scope],
            roleDefinitionId: roleDefinitionId(scopes[scope], role),
        }, { parent })));
}
