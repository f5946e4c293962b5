/**
 * Runs the pack's CrossGuard policies in-process with arguments built the way the policy server
 * builds them (props behind the unknown-checking proxy, notApplicable throwing, config per policy),
 * and classifies outcomes the way it does: an UnknownValueError becomes an advisory "can't run".
 */
import { PolicyResource, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { buildPolicies } from "../../policy-pack/policies";

// The 1.21.0 typings re-export these from an empty proxy.d.ts, so they are typed here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const proxy = require("@pulumi/policy/proxy") as {
    unknownCheckingProxy<T extends object>(o: T): T;
    UnknownValueError: new (...args: never[]) => Error;
    unknownStringValue: string;
    unknownArrayValue: string;
    unknownObjectValue: string;
};

/** The sentinel the engine sends for a value unknown during preview. */
export const UNKNOWN = proxy.unknownStringValue;
export const UNKNOWN_ARRAY = proxy.unknownArrayValue;
export const UNKNOWN_OBJECT = proxy.unknownObjectValue;

class NotApplicable extends Error {}

export type Outcome =
    | { kind: "violations"; messages: { message: string; urn?: string }[] }
    | { kind: "unknown"; message: string }
    | { kind: "not-applicable" };

export const POLICIES = buildPolicies();

export function policy<T extends ResourceValidationPolicy | StackValidationPolicy>(name: string): T {
    const p = POLICIES.find((x) => x.name === name);
    if (!p) {
        throw new Error(`no policy ${name}`);
    }
    return p as T;
}

function clone<T>(v: T): T {
    return JSON.parse(JSON.stringify(v)) as T;
}

function settle(run: () => void, collected: { message: string; urn?: string }[]): Outcome {
    try {
        run();
    } catch (e) {
        if (e instanceof proxy.UnknownValueError) {
            return { kind: "unknown", message: e.message };
        }
        if (e instanceof NotApplicable) {
            return { kind: "not-applicable" };
        }
        throw e;
    }
    return { kind: "violations", messages: collected };
}

export function runResource(name: string, type: string, props: object, config: object = {}): Outcome {
    const p = policy<ResourceValidationPolicy>(name);
    const collected: { message: string }[] = [];
    const args = {
        type,
        props: proxy.unknownCheckingProxy(clone(props)),
        urn: `urn:pulumi:test::aks-istio-mesh::${type}::r`,
        name: "r",
        opts: { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] },
        stackTags: new Map<string, string>(),
        isType: () => false,
        asType: () => undefined,
        getConfig: () => clone(config),
        notApplicable: (reason?: string): never => { throw new NotApplicable(reason); },
    } as unknown as ResourceValidationArgs;
    const validate = p.validateResource!;
    return settle(() => { (Array.isArray(validate) ? validate : [validate]).forEach((v) => v(args, (message: string) => collected.push({ message }))); }, collected);
}

export interface StackResource {
    type: string;
    name: string;
    urn: string;
    props: object;
}

export function runStack(name: string, resources: readonly StackResource[], config: object = {}): Outcome {
    const p = policy<StackValidationPolicy>(name);
    const collected: { message: string; urn?: string }[] = [];
    const args = {
        resources: resources.map((r) => ({ ...r, props: proxy.unknownCheckingProxy(clone(r.props)), dependencies: [], propertyDependencies: {} }) as unknown as PolicyResource),
        stackTags: new Map<string, string>(),
        getConfig: () => clone(config),
        notApplicable: (reason?: string): never => { throw new NotApplicable(reason); },
    } as StackValidationArgs;
    return settle(() => { void p.validateStack(args, (message: string, urn?: string) => collected.push({ message, urn })); }, collected);
}
