import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { IDestinationRule } from "@kubernetes-models/istio/networking.istio.io/v1/DestinationRule";
import type { IGateway } from "@kubernetes-models/istio/networking.istio.io/v1/Gateway";
import type { IServiceEntry } from "@kubernetes-models/istio/networking.istio.io/v1/ServiceEntry";
import type { ISidecar } from "@kubernetes-models/istio/networking.istio.io/v1/Sidecar";
import type { IVirtualService } from "@kubernetes-models/istio/networking.istio.io/v1/VirtualService";
import type { IEnvoyFilter } from "@kubernetes-models/istio/networking.istio.io/v1alpha3/EnvoyFilter";
import type { IAuthorizationPolicy } from "@kubernetes-models/istio/security.istio.io/v1/AuthorizationPolicy";
import type { IPeerAuthentication } from "@kubernetes-models/istio/security.istio.io/v1/PeerAuthentication";
import type { IRequestAuthentication } from "@kubernetes-models/istio/security.istio.io/v1/RequestAuthentication";
import type { ITelemetry } from "@kubernetes-models/istio/telemetry.istio.io/v1/Telemetry";

/**
 * Typed specs of the Istio objects the program writes (from @kubernetes-models/istio, generated
 * from Istio's CRDs), so a misspelt field fails `tsc`, and one constructor that ties each kind to
 * the API version the project uses.
 */
export type GatewaySpec = NonNullable<IGateway["spec"]>;
export type VirtualServiceSpec = NonNullable<IVirtualService["spec"]>;
export type DestinationRuleSpec = NonNullable<IDestinationRule["spec"]>;
export type SidecarSpec = NonNullable<ISidecar["spec"]>;
export type ServiceEntrySpec = NonNullable<IServiceEntry["spec"]>;
export type EnvoyFilterSpec = NonNullable<IEnvoyFilter["spec"]>;
export type PeerAuthenticationSpec = NonNullable<IPeerAuthentication["spec"]>;
export type AuthorizationPolicySpec = NonNullable<IAuthorizationPolicy["spec"]>;
export type RequestAuthenticationSpec = NonNullable<IRequestAuthentication["spec"]>;
export type TelemetrySpec = NonNullable<ITelemetry["spec"]>;
export type HttpRoute = NonNullable<VirtualServiceSpec["http"]>[number];

interface Kinds {
    Gateway: GatewaySpec;
    VirtualService: VirtualServiceSpec;
    DestinationRule: DestinationRuleSpec;
    Sidecar: SidecarSpec;
    ServiceEntry: ServiceEntrySpec;
    EnvoyFilter: EnvoyFilterSpec;
    PeerAuthentication: PeerAuthenticationSpec;
    AuthorizationPolicy: AuthorizationPolicySpec;
    RequestAuthentication: RequestAuthenticationSpec;
    Telemetry: TelemetrySpec;
}

/** networking.istio.io/v1, security.istio.io/v1 and telemetry.istio.io/v1; EnvoyFilter exists only as v1alpha3. */
const API_VERSIONS: Record<keyof Kinds, string> = {
    Gateway: "networking.istio.io/v1",
    VirtualService: "networking.istio.io/v1",
    DestinationRule: "networking.istio.io/v1",
    Sidecar: "networking.istio.io/v1",
    ServiceEntry: "networking.istio.io/v1",
    EnvoyFilter: "networking.istio.io/v1alpha3",
    PeerAuthentication: "security.istio.io/v1",
    AuthorizationPolicy: "security.istio.io/v1",
    RequestAuthentication: "security.istio.io/v1",
    Telemetry: "telemetry.istio.io/v1",
};

/** An Istio object with an explicit name and namespace and a spec typed by its kind (an Output when it holds provider outputs). */
export function istioObject<K extends keyof Kinds>(
    resourceName: string,
    kind: K,
    metadata: { name: string; namespace: pulumi.Input<string>; labels?: Record<string, string>; annotations?: Record<string, string> },
    spec: pulumi.Input<Kinds[K]>,
    opts: pulumi.CustomResourceOptions,
): k8s.apiextensions.CustomResource {
    return new k8s.apiextensions.CustomResource(resourceName, { apiVersion: API_VERSIONS[kind], kind, metadata, spec }, opts);
}
