import type { ServiceSpec } from "./spec";

export type { AppTraffic, FaultSpec, HeaderRoute, RateLimitSpec, ServiceTraffic } from "./spec";

/** Protocols whose traffic VirtualService http routes (weights, retries, faults) apply to. */
export const HTTP_PROTOCOLS: readonly string[] = ["http", "http2", "grpc"];

/** True when every port speaks HTTP, so the service gets http routes. */
export function isHttpService(svc: ServiceSpec): boolean {
    return svc.ports.every((p) => HTTP_PROTOCOLS.includes(p.protocol));
}

/** The service's versions; a service without `versions` runs v1. */
export function versionsOf(svc: ServiceSpec): string[] {
    return (svc.versions ?? [{ name: "v1" }]).map((v) => v.name);
}
