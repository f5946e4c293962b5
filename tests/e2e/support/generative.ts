/**
 * The judges of the generative differential (tests/e2e/generative.test.ts). Generative differential: thousands of seeded one-change variants of every rendered Istio object (all stacks)
 * and every corpus object, each judged by the offline check (tools/schema plus the pack's validity rules, as
 * policy:check runs them) and by the real judges: `istioctl validate` at the judge revision (batched: one run
 * over many files) and the API server's strict server-side dry-run (one request per object). Every
 * disagreement fails, printed with its seed and the one change that made it; the run reports how many
 * variants per kind and the agreement rate.
 */
import * as fs from "fs";
import * as https from "https";
import * as path from "path";
import { parseDocument, stringify } from "yaml";
import { evaluate, KubeObject, ResourceRule } from "../../../policy-pack/rules";
import { gatewayTls } from "../../../policy-pack/rules/gateways";
import { ISTIOD_RULES } from "../../../policy-pack/rules/istiod";
import * as webhook from "../../../policy-pack/rules/webhook";
import { SchemaBundle, validateObjects } from "../../../tools/schema";
import { withTempDir } from "./istioctl";
import { Variant } from "./mutate";
import { spawnSync } from "child_process";

const ISTIO_GROUPS = ["networking.istio.io", "security.istio.io", "telemetry.istio.io"];

/** The pack rules that say whether istiod and the API server accept an object (not mesh policy). */
const VALIDITY_RULES: ReadonlySet<string> = new Set([
    ...Object.values(webhook).filter((r): r is ResourceRule => typeof r === "object" && r !== null && (r as ResourceRule).scope === "resource").map((r) => r.name),
    ...ISTIOD_RULES.map((r) => r.name),
    gatewayTls.name,
]);

/** gateway-tls is mesh policy except its first check, which is istiod's (an HTTPS/TLS server without tls). */
const isValidityFinding = (policy: string, message: string) => VALIDITY_RULES.has(policy) && (policy !== gatewayTls.name || message.includes("without tls settings"));

export type Verdict = "accept" | "reject";

export interface Judged {
    readonly variant: Variant;
    readonly offline: string[];
    readonly istioctl: string[];
    readonly apiserver: string[];
}

/** Kinds `istioctl validate` and the offline check know, by the plural the API serves. */
const PLURALS: Record<string, string> = {
    VirtualService: "virtualservices", DestinationRule: "destinationrules", Gateway: "gateways", ServiceEntry: "serviceentries",
    Sidecar: "sidecars", EnvoyFilter: "envoyfilters", WorkloadEntry: "workloadentries", WorkloadGroup: "workloadgroups",
    PeerAuthentication: "peerauthentications", AuthorizationPolicy: "authorizationpolicies", RequestAuthentication: "requestauthentications",
    Telemetry: "telemetries", ProxyConfig: "proxyconfigs",
};

export function bases(stackObjects: readonly KubeObject[], corpus: readonly KubeObject[]): KubeObject[] {
    const seen = new Set<string>();
    return [...stackObjects, ...corpus].filter((o) => {
        const group = String(o.apiVersion ?? "").split("/")[0];
        if (!ISTIO_GROUPS.includes(group) || !PLURALS[String(o.kind)]) return false;
        const key = JSON.stringify({ ...o, metadata: { namespace: o.metadata?.namespace } });
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
    });
}

export function offlineFindings(o: KubeObject, bundle: SchemaBundle): string[] {
    return [
        ...validateObjects([o], bundle).map((e) => `${e.rule} ${e.path}: ${e.message}`),
        ...evaluate([o]).filter((v) => isValidityFinding(v.policy, v.message)).map((v) => `${v.policy}: ${v.message}`),
    ];
}

const originOf = (o: KubeObject) => `${String(o.kind)}/${o.metadata?.namespace ?? "default"}/${String(o.metadata?.name)}`;

/** istioctl validate over many files at once; each error line names its object (`* Kind/ns/name: message`). */
export function istioctlJudge(binary: string, vs: readonly Variant[]): Map<number, string[]> {
    const out = new Map<number, string[]>(vs.map((v) => [v.seed, []]));
    const byOrigin = new Map(vs.map((v) => [originOf(v.object), v.seed]));
    for (let i = 0; i < vs.length; i += 250) {
        const chunk = vs.slice(i, i + 250);
        withTempDir((dir) => {
            const files = chunk.map((v) => {
                const file = path.join(dir, `${v.seed}.yaml`);
                fs.writeFileSync(file, stringify(v.object, { lineWidth: 0 }));
                return file;
            });
            const r = spawnSync(binary, ["validate", ...files.flatMap((f) => ["-f", f])], { encoding: "utf8", timeout: 300_000, maxBuffer: 64 << 20, killSignal: "SIGKILL" });
            if (r.error) throw new Error(`istioctl validate: ${r.error.message}`);
            const text = `${r.stdout}${r.stderr}`;
            // Bullets under `"file" has warnings:` are warnings; those under `Error: N errors occurred:` are errors.
            let errors = false;
            for (const line of text.split("\n")) {
                if (/has warnings:\s*$/.test(line)) errors = false;
                else if (/^Error: /.test(line)) errors = true;
                const m = /^\s*\* ([A-Za-z]+\/[^/]*\/[^:]+): (.*)$/.exec(line);
                if (!m || !errors) continue;
                const seed = byOrigin.get(m[1]);
                if (seed !== undefined) out.get(seed)?.push(m[2]);
                else throw new Error(`istioctl reported on an object no variant names: ${line}`);
            }
            if (r.status !== 0 && chunk.every((v) => (out.get(v.seed) ?? []).length === 0)) {
                throw new Error(`istioctl validate failed without naming an object (exit ${r.status}): ${text.trim().split("\n")[0]}`);
            }
        });
    }
    return out;
}

export interface ApiClient {
    readonly server: URL;
    readonly agent: https.Agent;
}

export function apiClient(kubeconfig: string): ApiClient {
    const cfg = parseDocument(fs.readFileSync(kubeconfig, "utf8")).toJS() as Record<string, any>;
    const cluster = cfg.clusters[0].cluster;
    const user = cfg.users[0].user;
    return {
        server: new URL(cluster.server),
        agent: new https.Agent({
            ca: fs.readFileSync(cluster["certificate-authority"]), cert: fs.readFileSync(user["client-certificate"]), key: fs.readFileSync(user["client-key"]),
            keepAlive: true, maxSockets: 4,
        }),
    };
}

/** A strict server-side-apply dry-run of one object (what `kubectl apply --server-side --dry-run=server --validate=strict` sends). */
export function dryRun(api: ApiClient, o: KubeObject): Promise<string[]> {
    const [group, version] = String(o.apiVersion).split("/");
    const ns = o.metadata?.namespace ?? "default";
    const name = encodeURIComponent(String(o.metadata?.name));
    const url = new URL(`/apis/${group}/${version}/namespaces/${ns}/${PLURALS[String(o.kind)]}/${name}?dryRun=All&fieldManager=aks-istio-mesh-e2e&fieldValidation=Strict&force=true`, api.server);
    const body = JSON.stringify(o);
    return new Promise((resolve, reject) => {
        const req = https.request(url, { method: "PATCH", agent: api.agent, headers: { "Content-Type": "application/apply-patch+yaml", "Content-Length": Buffer.byteLength(body) }, timeout: 60_000 }, (res) => {
            let text = "";
            res.on("data", (d) => { text += d; });
            res.on("end", () => {
                if ((res.statusCode ?? 500) < 300) return resolve([]);
                let message = text;
                try { message = String(JSON.parse(text).message ?? text); } catch { /* not a Status: keep the text */ }
                resolve([`${res.statusCode}: ${message}`]);
            });
        });
        req.on("error", reject);
        req.on("timeout", () => req.destroy(new Error(`dry-run of ${originOf(o)} timed out`)));
        req.end(body);
    });
}

export const verdict = (findings: readonly string[]): Verdict => (findings.length > 0 ? "reject" : "accept");

/**
 * What the offline check cannot judge, with why. A disagreement matching one is counted apart, never silently:
 * the report lists each with its count.
 */
const NOT_OFFLINE: readonly { readonly why: string; readonly matches: (j: Judged) => boolean }[] = [
    {
        why: "EnvoyFilter patch values are decoded against Envoy's whole protobuf registry (every typed config and field), which only a Go build of Envoy's API carries",
        matches: (j) => j.variant.kind === "EnvoyFilter" && /\.patch\.value/.test(j.variant.mutation),
    },
];

export function report(judged: readonly Judged[]): { lines: string[]; disagreements: string[] } {
    const kinds = [...new Set(judged.map((j) => j.variant.kind))].sort();
    const lines: string[] = [];
    const disagreements: string[] = [];
    const excused = new Map<string, number>();
    let agree = 0;
    for (const j of judged) {
        const real = verdict([...j.istioctl, ...j.apiserver]);
        if (real === verdict(j.offline)) {
            agree++;
            continue;
        }
        const reason = NOT_OFFLINE.find((n) => n.matches(j));
        if (reason) {
            excused.set(reason.why, (excused.get(reason.why) ?? 0) + 1);
            continue;
        }
        disagreements.push([
            `seed ${j.variant.seed} (${j.variant.kind}, from ${j.variant.base}): ${j.variant.mutation}`,
            `    real judges ${real}: ${[...j.istioctl.map((m) => `istioctl: ${m}`), ...j.apiserver.map((m) => `apiserver: ${m}`)].join(" / ").slice(0, 400) || "no error"}`,
            `    offline check ${verdict(j.offline)}: ${j.offline.join(" / ").slice(0, 400) || "no finding"}`,
        ].join("\n"));
    }
    lines.push(`generative differential: ${judged.length} variants, ${agree} agree (${((100 * agree) / judged.length).toFixed(2)}%)`);
    for (const k of kinds) {
        const of = judged.filter((j) => j.variant.kind === k);
        const rejected = of.filter((j) => verdict([...j.istioctl, ...j.apiserver]) === "reject").length;
        lines.push(`  ${k}: ${of.length} variants (${rejected} refused by the real judges)`);
    }
    for (const [why, n] of excused) lines.push(`  not judged offline (${n}): ${why}`);
    return { lines, disagreements };
}

