/**
 * `aks-istio-mesh:environment`: what kind of environment the stack is, declared in its own stack file.
 * It decides how the policy pack judges the stack (production makes wildcard gateway hosts and
 * missing replicas/PDBs mandatory violations) and what the config itself insists on, never the
 * stack's name: a copy of a development stack file under another name is still development.
 */
import { boolean, object, oneOf } from "./schema";

export const environment = object({
    /** production or development. */
    kind: oneOf(["production", "development"]),
    /** User-facing services run 2+ replicas with a PodDisruptionBudget and zone spread. Default: true in production. */
    highAvailability: boolean().optional(),
    /** Apps served through ingress need HTTPS (ingress.tls) and named hosts. Default: true in production. */
    requireTls: boolean().optional(),
});

export interface EnvironmentConfig {
    readonly kind: "production" | "development";
    readonly highAvailability: boolean;
    readonly requireTls: boolean;
    /** True when the stack file declares `environment` (stack files older than the key leave it out). */
    readonly declared: boolean;
}

/** `aks-istio-mesh:workloads`: how the app workloads run. */
export const workloads = object({
    /** The older spelling of environment.highAvailability; both may be given if they agree. */
    highAvailability: boolean().optional(),
}).prefault({});

/** The environment kind the policy pack's `environment` setting names. */
export function packEnvironment(kind: EnvironmentConfig["kind"]): "prod" | "dev" {
    return kind === "production" ? "prod" : "dev";
}
