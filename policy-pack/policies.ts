/**
 * The CrossGuard adapter: one CrossGuard policy per rule. Resource policies map `args.type` to a
 * plain object with `toPolicyObject`; stack policies do the same for `args.resources` and report
 * each finding on the URN of the object it is about. No rule logic lives here.
 *
 * Props stay behind the CrossGuard proxy: a rule that reads a value unknown during preview throws
 * UnknownValueError, which the server reports as an advisory "can't run policy" instead of a verdict.
 */
import { Policies, ReportViolation, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import {
    applies, checkResource, checkStack, KubeObject, policyConfigSchema, ResourceRule, RULES, settingsFromPolicyConfig, StackRule, toPolicyObject,
} from "./rules";

/** The code travels in the message so CLI output shows which istioctl check a finding mirrors. */
export function formatMessage(f: { message: string; code?: string }): string {
    return f.code ? `[${f.code}] ${f.message}` : f.message;
}

function common(rule: ResourceRule | StackRule) {
    return {
        name: rule.name,
        description: rule.description,
        enforcementLevel: rule.enforcement,
        severity: rule.severity,
        remediationSteps: rule.remediation,
        configSchema: policyConfigSchema(rule),
    };
}

function resourcePolicy(rule: ResourceRule): ResourceValidationPolicy {
    return {
        ...common(rule),
        validateResource: (args, report: ReportViolation) => {
            const obj = toPolicyObject(args.type, args.name, args.props);
            if (!obj || !applies(rule, obj)) {
                return args.notApplicable(`applies to ${rule.kinds.join(", ")}`);
            }
            const settings = settingsFromPolicyConfig(rule.name, args.getConfig());
            for (const issue of checkResource(rule, obj, settings)) {
                report(formatMessage(issue));
            }
        },
    };
}

function stackPolicy(rule: StackRule): StackValidationPolicy {
    return {
        ...common(rule),
        validateStack: (args, report: ReportViolation) => {
            const urns = new Map<KubeObject, string>();
            for (const r of args.resources) {
                const obj = toPolicyObject(r.type, r.name, r.props);
                if (obj) {
                    urns.set(obj, r.urn);
                }
            }
            const settings = settingsFromPolicyConfig(rule.name, args.getConfig());
            for (const f of checkStack(rule, [...urns.keys()], settings)) {
                report(formatMessage(f), "object" in f ? urns.get(f.object) : undefined);
            }
        },
    };
}

/** The pack's policies, built from the rules. */
export function buildPolicies(): Policies {
    return RULES.map((rule) => (rule.scope === "resource" ? resourcePolicy(rule) : stackPolicy(rule)));
}
