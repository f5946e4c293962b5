/**
 * ObjectMeta checks the API server applies to every custom resource. Istio's CRDs leave `metadata` untyped,
 * so the schema alone would accept any name or label.
 */
import { asRecord, isDns1123Label, isDns1123Subdomain } from "../../policy-pack/rules/k8s";
import { Finding, pointer } from "./finding";

const OBJECT_META_FIELDS = new Set([
    "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation", "creationTimestamp",
    "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences", "finalizers",
    "managedFields",
]);

const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const MAX_ANNOTATIONS_BYTES = 256 * 1024;

/** Label and annotation keys: `[prefix/]name`, prefix a DNS-1123 subdomain, name at most 63 characters. */
function isQualifiedName(key: string): boolean {
    const slash = key.indexOf("/");
    const prefix = slash < 0 ? undefined : key.slice(0, slash);
    const name = slash < 0 ? key : key.slice(slash + 1);
    if (prefix !== undefined && !isDns1123Subdomain(prefix)) return false;
    return name.length <= 63 && QUALIFIED_NAME_PART.test(name);
}

function isLabelValue(value: string): boolean {
    return value === "" || (value.length <= 63 && QUALIFIED_NAME_PART.test(value));
}

function stringMap(
    value: unknown,
    path: string,
    what: string,
    keyOk: (k: string) => boolean,
    valueOk?: (v: string) => boolean,
): Finding[] {
    const map = asRecord(value);
    if (!map) return [{ path, rule: "metadata", message: `${what} must be a map of strings` }];
    const findings: Finding[] = [];
    for (const [key, entry] of Object.entries(map)) {
        const at = pointer(path, key);
        if (!keyOk(key)) {
            findings.push({ path: at, rule: "metadata", message: `invalid ${what} key "${key}": want [prefix/]name, name at most 63 alphanumerics, '-', '_' or '.'` });
        }
        if (typeof entry !== "string") {
            findings.push({ path: at, rule: "metadata", message: `${what} values must be strings, got ${typeof entry}` });
        } else if (valueOk && !valueOk(entry)) {
            findings.push({ path: at, rule: "metadata", message: `invalid ${what} value "${entry}": at most 63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric` });
        }
    }
    return findings;
}

/** Validates `metadata` of a namespaced custom resource (all Istio kinds are namespaced). */
export function validateMetadata(metadata: unknown): Finding[] {
    const meta = asRecord(metadata);
    if (!meta) return [{ path: "/metadata", rule: "metadata", message: "metadata with a name is required" }];
    const findings: Finding[] = [];
    for (const key of Object.keys(meta)) {
        if (!OBJECT_META_FIELDS.has(key)) {
            findings.push({ path: pointer("/metadata", key), rule: "unknown-field", message: `unknown field "${key}"` });
        }
    }
    const { name, namespace, labels, annotations } = meta;
    if (name === undefined) {
        if (meta.generateName === undefined) {
            findings.push({ path: "/metadata/name", rule: "metadata", message: "name or generateName is required" });
        }
    } else if (typeof name !== "string" || !isDns1123Subdomain(name)) {
        findings.push({
            path: "/metadata/name",
            rule: "metadata",
            message: `invalid name ${JSON.stringify(name)}: must be a DNS-1123 subdomain (lowercase alphanumerics, '-' or '.', at most 253 characters)`,
        });
    }
    if (namespace !== undefined && (typeof namespace !== "string" || !isDns1123Label(namespace))) {
        findings.push({
            path: "/metadata/namespace",
            rule: "metadata",
            message: `invalid namespace ${JSON.stringify(namespace)}: must be a DNS-1123 label (lowercase alphanumerics or '-', at most 63 characters)`,
        });
    }
    if (labels !== undefined) findings.push(...stringMap(labels, "/metadata/labels", "label", isQualifiedName, isLabelValue));
    if (annotations !== undefined) {
        // The API server checks annotation keys case-insensitively and caps their total size.
        findings.push(...stringMap(annotations, "/metadata/annotations", "annotation", (k) => isQualifiedName(k.toLowerCase())));
        const size = Object.entries(asRecord(annotations) ?? {}).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(String(v)), 0);
        if (size > MAX_ANNOTATIONS_BYTES) {
            findings.push({ path: "/metadata/annotations", rule: "metadata", message: `annotations total ${size} bytes, more than the 256 KiB allowed` });
        }
    }
    return findings;
}
