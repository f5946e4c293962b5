/**
 * The rules and their one entry point, `evaluate`, shared by the three front doors: the CrossGuard
 * pack (policy-pack/index.ts via ../policies.ts), the offline preview and the YAML check.
 */
import { aksMeshProfile } from "./cluster";
import { aksDeleteLock, aksEgressGateway, aksMaintenanceWindows, aksMeshCa, aksNodePools, namespacePodSecurity } from "./production";
import { authorizationDefaultDeny, authorizationPolicySafe, requestAuthenticationPairs } from "./authz";
import {
    configSchemaFor, enforcementFor, MeshSettings, PackConfig, PackConfigInput, resolvePackConfig, settingsFor, SettingsInput,
} from "./config";
import { destinationRuleHost, destinationRuleSubsetPods, destinationRuleTls } from "./destinationrules";
import { aksBlockedIstioApis, envoyFilterPatches, envoyFilterUnsupported } from "./extensions";
import {
    gatewayConflicts, gatewayIngressEnabled, gatewayPorts, gatewaySelector, gatewayTls, gatewayWildcardHost, gatewayWildcardHostDev,
} from "./gateways";
import { aksMeshConfig, deprecatedAnnotations, servicePortNames, sidecarDefaultSelector } from "./hygiene";
import { asString, GK, groupKind, GroupKind, namespaceOf, nameOf } from "./k8s";
import { meshMtlsStrict, peerAuthenticationStrict } from "./mtls";
import { namespaceInjectionLabels, namespaceReserved, namespaceRevisionOnCluster } from "./namespaces";
import { Finding, Issue, PolicyInfo, ResourceRule, Rule, StackRule } from "./rule";
import { packConfigCurrent } from "./stamp";
import { revisionEndOfLife, revisionEndOfLifeDev } from "./lifecycle";
import { authorizationPolicyWorkloads, workloadSelectorMatches } from "./selectors";
import { AzureObject, EnforcementLevel, KubeObject, Violation } from "./types";
import {
    virtualServiceDestinationPort, virtualServiceGatewayHosts, virtualServiceMeshHostConflicts, virtualServiceReferences,
} from "./virtualservices";
import {
    authorizationPolicyAction, destinationRuleSubsetNames, gatewayName, gatewayPortRange, sidecarEgressHosts, virtualServiceRouteAction,
    virtualServiceRouteWeights,
} from "./webhook";
import { autoscalerTarget, containerResourceRequests, workloadAvailability, workloadReservedUid, workloadSidecarInjection } from "./workloads";

export * from "./types";
export { ConfigError } from "../lib/errors";
export { mtlsExceptionSchema, SETTINGS, settingsFromPolicyConfig } from "./config";
export type { Environment, MeshSettings, MtlsException, PackConfig, PackConfigInput, PolicyConfigInput, SettingKey, SettingsInput } from "./config";
export type { Finding, Issue, PolicyInfo, ResourceRule, Rule, StackRule, Subject } from "./rule";

/** Every rule, in report order: mesh security first, then AKS add-on, traffic, hygiene. */
export const RULES: readonly Rule[] = [
    packConfigCurrent,
    peerAuthenticationStrict,
    meshMtlsStrict,
    namespaceReserved,
    namespaceInjectionLabels,
    namespaceRevisionOnCluster,
    workloadSidecarInjection,
    workloadReservedUid,
    destinationRuleTls,
    aksMeshProfile,
    aksNodePools,
    aksDeleteLock,
    aksMaintenanceWindows,
    aksMeshCa,
    aksEgressGateway,
    namespacePodSecurity,
    revisionEndOfLife,
    revisionEndOfLifeDev,
    aksBlockedIstioApis,
    envoyFilterUnsupported,
    envoyFilterPatches,
    authorizationPolicySafe,
    authorizationDefaultDeny,
    requestAuthenticationPairs,
    authorizationPolicyWorkloads,
    authorizationPolicyAction,
    gatewaySelector,
    gatewayIngressEnabled,
    gatewayPorts,
    gatewayTls,
    gatewayWildcardHost,
    gatewayWildcardHostDev,
    gatewayConflicts,
    gatewayName,
    gatewayPortRange,
    virtualServiceReferences,
    virtualServiceDestinationPort,
    virtualServiceGatewayHosts,
    virtualServiceMeshHostConflicts,
    virtualServiceRouteAction,
    virtualServiceRouteWeights,
    destinationRuleSubsetPods,
    destinationRuleHost,
    destinationRuleSubsetNames,
    servicePortNames,
    deprecatedAnnotations,
    sidecarDefaultSelector,
    workloadSelectorMatches,
    sidecarEgressHosts,
    aksMeshConfig,
    containerResourceRequests,
    workloadAvailability,
    autoscalerTarget,
];

/** Policy metadata (the README policy table is generated from this). */
export const POLICIES: readonly PolicyInfo[] = RULES.map(
    ({ name, description, severity, enforcement, remediation, code, scope, settings, kinds }) =>
        ({ name, description, severity, enforcement, remediation, code, scope, settings, kinds }));

export const POLICY_NAMES: readonly string[] = RULES.map((r) => r.name);

/** Validates a config (flat settings and/or a `--policy-pack-config` document under `policies`) and applies defaults. */
export function resolveConfig(input: PackConfigInput = {}): PackConfig {
    return resolvePackConfig(input, POLICY_NAMES);
}

/**
 * The `--policy-pack-config` document giving each policy the settings it reads, from one flat set
 * (e.g. derived from stack config): CrossGuard scopes config per policy, so shared settings repeat.
 */
export function toPolicyPackConfig(settings: SettingsInput): Record<string, SettingsInput> {
    resolveConfig(settings);
    const file: Record<string, SettingsInput> = {};
    for (const rule of RULES) {
        const own = Object.fromEntries(rule.settings.filter((k) => settings[k] !== undefined).map((k) => [k, settings[k]]));
        if (Object.keys(own).length > 0) {
            file[rule.name] = own;
        }
    }
    return file;
}

/** The CrossGuard configSchema of a policy, derived from the setting definitions. */
export function policyConfigSchema(rule: PolicyInfo): ReturnType<typeof configSchemaFor> {
    return configSchemaFor(rule.settings);
}

/** Group/kinds any rule reads; everything else is dropped before rules run. */
const READ_KINDS: ReadonlySet<GroupKind> = new Set(RULES.flatMap((r) => r.kinds));

export function applies(rule: Rule, obj: KubeObject): boolean {
    return rule.kinds.includes(groupKind(obj));
}

/** Runs a resource rule on one object (nothing when the rule does not apply to its kind). */
export function checkResource(rule: ResourceRule, obj: KubeObject, settings: MeshSettings): Issue[] {
    return applies(rule, obj) ? rule.check(obj, settings) : [];
}

/** Runs a stack rule on the objects it reads. */
export function checkStack(rule: StackRule, objects: readonly KubeObject[], settings: MeshSettings): Finding[] {
    return rule.check(objects.filter((o) => applies(rule, o)), settings);
}

const CLUSTERED: readonly GroupKind[] = [GK.namespace, GK.managedCluster, GK.agentPool, GK.maintenanceConfiguration, GK.managementLock];

function violation(rule: Rule, enforcement: EnforcementLevel, f: Finding): Violation {
    const subject = "object" in f
        ? {
            kind: asString(f.object.kind) ?? "",
            namespace: CLUSTERED.includes(groupKind(f.object)) ? undefined : namespaceOf(f.object),
            name: nameOf(f.object),
        }
        : f.subject;
    // Key order is the documented JSON shape: policy, code?, enforcement, severity, kind, namespace?, name?, message.
    return {
        policy: rule.name,
        ...(f.code ? { code: f.code } : {}),
        enforcement,
        severity: rule.severity,
        kind: subject.kind,
        ...(subject.namespace !== undefined ? { namespace: subject.namespace } : {}),
        ...(subject.name !== undefined ? { name: subject.name } : {}),
        message: f.message,
    };
}

/**
 * Runs every resource rule on each object and every stack rule on the whole set. Objects of kinds
 * no rule reads (and non-objects) are ignored. Throws ConfigError for an invalid config.
 */
export function evaluate(objects: readonly KubeObject[], config: PackConfigInput = {}): Violation[] {
    const resolved = resolveConfig(config);
    const relevant = objects.filter((o) => typeof o === "object" && o !== null && READ_KINDS.has(groupKind(o)));
    const out: Violation[] = [];
    for (const rule of RULES) {
        const enforcement = enforcementFor(resolved, rule.name, rule.enforcement);
        if (enforcement === "disabled") {
            continue;
        }
        const settings = settingsFor(resolved, rule.name);
        const findings: Finding[] = rule.scope === "resource"
            ? relevant.flatMap((o) => checkResource(rule, o, settings).map((i) => ({ ...i, object: o })))
            : checkStack(rule, relevant, settings);
        out.push(...findings.map((f) => violation(rule, enforcement, f)));
    }
    return out;
}

const K8S_TOKEN = /^kubernetes:([^/:]+)\/([^:]+):([A-Za-z0-9]+)$/;
/** The Azure resources rules read, by their azure-native token, as `group/kind` of the plain object. */
const AZURE_TOKEN = /^azure-native:(containerservice|authorization)(\/v[0-9a-z]+)?:(ManagedCluster|AgentPool|MaintenanceConfiguration|ManagementLockAtResourceGroupLevel)$/;

/**
 * Maps a Pulumi resource to the plain object the rules take, deciding from its type token alone.
 * Kubernetes props are used as they are, except that apiVersion and kind come from the token: props
 * are never enumerated or copied (outputs such as `status` are unknown during preview, and reading
 * them would throw), and resources read with `.get` may lack both fields. Undefined for types no
 * rule reads.
 */
export function toPolicyObject(type: string, name: string, props: Record<string, unknown>): KubeObject | undefined {
    const azure = AZURE_TOKEN.exec(type);
    if (azure) {
        const [, group, , token] = azure;
        const kind = token === "ManagementLockAtResourceGroupLevel" ? "ManagementLock" : token;
        const obj: AzureObject = { apiVersion: `${group}.azure.com/v1`, kind, metadata: { name }, properties: props };
        return obj;
    }
    const m = K8S_TOKEN.exec(type);
    if (!m) {
        return undefined;
    }
    const [, group, version, token] = m;
    // NamespacePatch labels a namespace the stack does not own (e.g. default) and applies as a Namespace.
    const kind = group === "core" && token === "NamespacePatch" ? "Namespace" : token;
    if (!READ_KINDS.has(`${group}/${kind}`)) {
        return undefined;
    }
    const apiVersion = group === "core" ? version : `${group}/${version}`;
    return new Proxy(props, {
        get: (target, key) => (key === "apiVersion" ? apiVersion : key === "kind" ? kind : Reflect.get(target, key)),
    }) as KubeObject;
}
