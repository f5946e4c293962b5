import * as pulumi from "@pulumi/pulumi";

/**
 * The one error type for a value a user must change: a stack-config key, an app-spec field, a policy-pack
 * config entry, a command-line argument or an unreadable input file. It is a RunError, so `pulumi up` prints
 * the message alone without the program's stack trace; the offline tools print the same line and exit 2.
 * It lives in the pack's lib so the pack stays installable on its own; config/ and tools/ import it from here.
 */
export class ConfigError extends pulumi.RunError {
    /**
     * @param path the key path the user must change (e.g. `aks-istio-mesh:mesh.revisions[0]`, `--stack`)
     * @param problem what is wrong and what is allowed
     */
    constructor(readonly path: string, readonly problem: string) {
        super(`${path}: ${problem}`);
        this.name = "ConfigError";
    }
}
