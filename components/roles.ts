import * as pulumi from "@pulumi/pulumi";

/** Built-in Azure role definitions the program assigns (ids are the same in every tenant). */
export const ROLES = {
    monitoringDataReader: "b0d8363b-8ddd-447d-831f-62ca05bff136",
    grafanaAdmin: "22926164-76b3-42b3-bc55-97df8dab3e41",
    /** Read secret contents: a Key Vault certificate's key and chain. */
    keyVaultSecretsUser: "4633458b-17de-408a-b874-0445c86b69e6",
} as const;

/** The subscription-level id of a built-in role, in the subscription of the resource `scopeId`. */
export function roleDefinitionId(scopeId: pulumi.Input<string>, role: string): pulumi.Output<string> {
    return pulumi.output(scopeId).apply((id) => `/subscriptions/${id.split("/")[2]}/providers/Microsoft.Authorization/roleDefinitions/${role}`);
}
