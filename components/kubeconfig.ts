import { parse, stringify } from "yaml";

/**
 * Points every exec (kubelogin) user of a kubeconfig at a non-interactive login mode.
 *
 * AKS returns AAD kubeconfigs with `kubelogin get-token --login devicecode`, which would stop
 * `pulumi up` at a browser prompt. This is what `kubelogin convert-kubeconfig -l <mode>` does,
 * done in the program so the provider's kubeconfig never needs a manual step.
 */
export function withKubeloginMode(kubeconfig: string, mode: string): string {
    const doc = parse(kubeconfig) as { users?: { user?: { exec?: { args?: string[] } } }[] };
    for (const entry of doc.users ?? []) {
        const args = entry.user?.exec?.args;
        if (!args) {
            continue;
        }
        const i = args.indexOf("--login");
        if (i >= 0 && i + 1 < args.length) {
            args[i + 1] = mode;
        } else {
            args.push("--login", mode);
        }
    }
    return stringify(doc);
}
