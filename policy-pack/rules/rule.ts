/** The shape every rule has: metadata (what the README table and the pack publish) plus a pure check. */
import { MeshSettings, SettingKey } from "./config";
import { GroupKind } from "./k8s";
import { EnforcementLevel, KubeObject, Severity } from "./types";

export interface PolicyInfo {
    /** Policy name, stable: config files and suppressions refer to it. */
    readonly name: string;
    readonly description: string;
    readonly severity: Severity;
    /** Default enforcement; config may override it. */
    readonly enforcement: EnforcementLevel;
    readonly remediation: string;
    /** The istioctl analyze code(s) the policy mirrors, joined with ", " when several. */
    readonly code?: string;
    /** resource: one object at a time (inputs, before create); stack: the whole set (relations). */
    readonly scope: "resource" | "stack";
    /** The config settings the policy reads (its CrossGuard configSchema). */
    readonly settings: readonly SettingKey[];
    /** Kinds the policy applies to (resource) or reads (stack). */
    readonly kinds: readonly GroupKind[];
}

/** A finding on the object a resource rule was given. */
export interface Issue {
    readonly message: string;
    readonly code?: string;
}

/** What a stack finding is about when no single object carries it (e.g. a missing mesh-wide policy). */
export interface Subject {
    readonly kind: string;
    readonly namespace?: string;
    readonly name?: string;
}

export type Finding = Issue & ({ readonly object: KubeObject } | { readonly subject: Subject });

export interface ResourceRule extends PolicyInfo {
    readonly scope: "resource";
    check(obj: KubeObject, settings: MeshSettings): Issue[];
}

export interface StackRule extends PolicyInfo {
    readonly scope: "stack";
    check(objects: readonly KubeObject[], settings: MeshSettings): Finding[];
}

export type Rule = ResourceRule | StackRule;
