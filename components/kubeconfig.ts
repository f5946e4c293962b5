import { parse, stringify } from "yaml";

/**
 * The non-interactive kubelogin login modes the program can run under `pulumi up`, and what each
 * one reads from the environment of the process that runs the Kubernetes provider.
 */
export const KUBELOGIN_MODES = {
    /** The Azure CLI's session (`az login`, also `az login --identity`); the token's tenant is the session's. */
    azurecli: [] as string[],
    /** The host's managed identity; AZURE_CLIENT_ID picks a user-assigned one, unset means the system-assigned one. */
    msi: ["AZURE_CLIENT_ID"],
    /** A federated token (AKS workload identity, or GitHub Actions OIDC through ACTIONS_ID_TOKEN_REQUEST_*). */
    workloadidentity: ["AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST"],
    /** A service principal with a secret or a PFX certificate. */
    spn: ["AAD_SERVICE_PRINCIPAL_CLIENT_ID", "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_CLIENT_CERTIFICATE_PASSWORD"],
} as const;

export type KubeloginMode = keyof typeof KUBELOGIN_MODES;

interface ExecUser {
    command?: string;
    args?: string[];
    env?: unknown;
    [k: string]: unknown;
}

function argValue(args: readonly string[], flag: string): string | undefined {
    const i = args.indexOf(flag);
    return i >= 0 && i + 1 < args.length ? args[i + 1] : undefined;
}

/**
 * The `kubelogin get-token` arguments for a login mode, rebuilt from the ones AKS wrote.
 *
 * Mirrors `kubelogin convert-kubeconfig -l <mode>` run without further flags: every mode keeps
 * `--server-id` (the AKS AAD server application, the token's audience). `azurecli`, `msi` and
 * `workloadidentity` drop `--client-id`, `--tenant-id` and `--environment`: the AKS client id would
 * be taken as a user-assigned identity by `msi`, and a tenant breaks an Azure CLI logged in with
 * `--identity`; these modes take identity and tenant from their environment instead. `spn` keeps
 * client, tenant and environment, and kubelogin lets the environment's service principal override
 * the client id.
 */
export function kubeloginArgs(aksArgs: readonly string[], mode: KubeloginMode): string[] {
    const serverId = argValue(aksArgs, "--server-id");
    if (!serverId) {
        throw new Error("the cluster's kubeconfig runs kubelogin without --server-id; kubelogin cannot get a token for it");
    }
    const args = ["get-token", "--login", mode, "--server-id", serverId];
    if (mode === "spn") {
        for (const flag of ["--client-id", "--tenant-id"]) {
            const value = argValue(aksArgs, flag);
            if (!value) {
                throw new Error(`kubelogin's spn login needs ${flag}, which the cluster's kubeconfig does not carry`);
            }
            args.push(flag, value);
        }
        const environment = argValue(aksArgs, "--environment");
        if (environment) {
            args.push("--environment", environment);
        }
        if (aksArgs.includes("--legacy")) {
            args.push("--legacy");
        }
    }
    return args;
}

/**
 * Points every kubelogin exec user of a kubeconfig at a non-interactive login mode.
 *
 * AKS returns AAD kubeconfigs with `kubelogin get-token --login devicecode`, which would stop
 * `pulumi up` at a browser prompt. This is what `kubelogin convert-kubeconfig -l <mode>` does
 * (see {@link kubeloginArgs}), done in the program so the provider's kubeconfig never needs a
 * manual step. Users that do not run kubelogin (client certificates, tokens) are left alone.
 */
export function withKubeloginMode(kubeconfig: string, mode: KubeloginMode): string {
    const doc = parse(kubeconfig) as { users?: { user?: { exec?: ExecUser } }[] };
    for (const entry of doc.users ?? []) {
        const exec = entry.user?.exec;
        if (!exec || !String(exec.command ?? "").toLowerCase().includes("kubelogin")) {
            continue;
        }
        // convert-kubeconfig writes a fresh exec block: its own args and no env of the old one.
        delete exec.env;
        exec.command = "kubelogin";
        exec.args = kubeloginArgs(exec.args ?? [], mode);
    }
    return stringify(doc);
}
