import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { CATALOG } from "../components/apps/catalog";
import { KIALI_NAMESPACE } from "../components/kiali";
import { INGRESS_GATEWAYS, ROOT_NAMESPACE } from "../policy-pack/lib/aks";
import { configValues, kubeObjects, parseStackConfig, runsKiali, stackConfig, stackRun, STACKS, variantRun } from "./helpers";

const MESH = "aks-istio-mesh:mesh";
type Run = Awaited<ReturnType<typeof stackRun>>;

/** Principal → "<namespace>/<app label>" of the workloads running as that ServiceAccount, from the rendered pods. */
function workloadsByPrincipal(run: Run): Map<string, string> {
    const out = new Map<string, string>();
    for (const w of [...kubeObjects(run, "Deployment"), ...kubeObjects(run, "StatefulSet")]) {
        const sa = w.spec.template.spec.serviceAccountName;
        out.set(`cluster.local/ns/${w.metadata.namespace}/sa/${sa}`, `${w.metadata.namespace}/${w.spec.template.metadata.labels.app}`);
    }
    out.set(INGRESS_GATEWAYS.External.principal, "ingress");
    // Kiali's pods come from its Helm chart, so they are not among the rendered workloads.
    out.set(`cluster.local/ns/${KIALI_NAMESPACE}/sa/kiali`, `${KIALI_NAMESPACE}/kiali`);
    return out;
}

/** Container port → Service port of each "<namespace>/<service>", from the rendered Services. */
function servicePorts(run: Run): Map<string, Map<string, number>> {
    return new Map(kubeObjects(run, "Service").map((s) => [
        `${s.metadata.namespace}/${s.metadata.name}`,
        new Map<string, number>(s.spec.ports.map((p: any) => [String(p.targetPort), p.port])),
    ]));
}

/** Every edge the rendered ALLOW policies permit, as "<ns>/<caller> -> <ns>/<callee>:<service port>". */
function allowedEdges(run: Run): string[] {
    const who = workloadsByPrincipal(run);
    const ports = servicePorts(run);
    const edges: string[] = [];
    for (const ap of kubeObjects(run, "AuthorizationPolicy")) {
        assert.strictEqual(ap.spec.action ?? "ALLOW", "ALLOW", `${ap.metadata.name} is not an ALLOW policy`);
        if (!ap.spec.rules) {
            continue;
        }
        const callee = `${ap.metadata.namespace}/${ap.spec.selector.matchLabels.app}`;
        for (const rule of ap.spec.rules) {
            assert.strictEqual(rule.from.length, 1);
            assert.ok(rule.to?.length === 1 && rule.to[0].operation.ports.length > 0, `${ap.metadata.name}: every rule restricts ports`);
            for (const p of rule.from[0].source.principals) {
                assert.ok(who.has(p), `${ap.metadata.name} allows ${p}, which no workload of the stack runs as`);
                for (const port of rule.to[0].operation.ports) {
                    edges.push(`${who.get(p)} -> ${callee}:${ports.get(callee)!.get(port)}`);
                }
            }
        }
    }
    return edges.sort();
}

/** The call graph the app specs declare, in the same form. */
function declaredEdges(apps: string[]): string[] {
    return apps.flatMap((name) => {
        const spec = CATALOG[name];
        return [
            ...spec.calls.map((c) => `${spec.namespace}/${c.from} -> ${spec.namespace}/${c.to}:${c.port}`),
            ...spec.ingress.map((i) => `ingress -> ${spec.namespace}/${i.service}:${i.port}`),
        ];
    }).sort();
}

describe("mesh security", () => {
    for (const stack of STACKS) {
        describe(`${stack} stack`, () => {
            it("enforces STRICT mTLS mesh-wide and in every app namespace, relaxing nothing", async () => {
                const run = await stackRun(stack);
                const pas = kubeObjects(run, "PeerAuthentication");
                const root = pas.filter((p) => p.metadata.namespace === ROOT_NAMESPACE);
                assert.deepStrictEqual(root.map((p) => p.spec), [{ mtls: { mode: "STRICT" } }], "one selector-less STRICT policy in the root namespace");
                for (const ns of kubeObjects(run, "Namespace").map((n) => n.metadata.name)) {
                    const own = pas.filter((p) => p.metadata.namespace === ns && !p.spec.selector);
                    assert.deepStrictEqual(own.map((p) => p.spec.mtls.mode), ["STRICT"], `namespace ${ns}`);
                }
                for (const p of pas) {
                    assert.strictEqual(p.spec.mtls.mode, "STRICT", `${p.metadata.namespace}/${p.metadata.name}`);
                    assert.strictEqual(p.spec.portLevelMtls, undefined);
                }
            });

            it("denies by default in every app namespace", async () => {
                const run = await stackRun(stack);
                for (const ns of kubeObjects(run, "Namespace").map((n) => n.metadata.name)) {
                    const nothing = kubeObjects(run, "AuthorizationPolicy").filter((a) => a.metadata.namespace === ns && !a.spec.selector);
                    assert.deepStrictEqual(nothing.map((a) => a.spec), [{}], `namespace ${ns} has one allow-nothing policy`);
                }
            });

            it("allows exactly the call graph of pets and bookinfo, plus the ingress gateway into entry services", async () => {
                const kiali = `${KIALI_NAMESPACE}/kiali -> ${KIALI_NAMESPACE}/prometheus-query-proxy:80`;
                assert.deepStrictEqual(allowedEdges(await stackRun(stack)), [...declaredEdges(["pets", "bookinfo"]), ...(runsKiali(stack) ? [kiali] : [])].sort());
            });

            it("limits each namespace's egress to itself and the control plane", async () => {
                const run = await stackRun(stack);
                const mode = stackConfig(stack).mesh.outboundTrafficPolicy;
                const sidecars = kubeObjects(run, "Sidecar").filter((s) => s.metadata.namespace !== KIALI_NAMESPACE);
                assert.deepStrictEqual(sidecars.map((s) => s.metadata.namespace).sort(), ["bookinfo", "pets"]);
                for (const s of sidecars) {
                    assert.strictEqual(s.spec.workloadSelector, undefined, "namespace-wide");
                    assert.deepStrictEqual(s.spec.egress, [{ hosts: ["./*", `${ROOT_NAMESPACE}/*`] }]);
                    assert.deepStrictEqual(s.spec.outboundTrafficPolicy, { mode });
                }
            });
        });
    }

    it("derives the policies from the spec: an app of the user's own gets its own edges", async () => {
        const hello = {
            name: "hello",
            services: [
                { name: "web", image: "docker.io/nginxinc/nginx-unprivileged:1.27.3", ports: [{ port: 80, targetPort: 8080, protocol: "http" }],
                    resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } } },
                { name: "api", image: "ghcr.io/example/api:1.0.0", ports: [{ port: 9000, protocol: "grpc" }],
                    resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } } },
            ],
            calls: [{ from: "web", to: "api", port: 9000 }],
            ingress: [{ service: "web", port: 80, paths: [{ match: "prefix", path: "/" }] }],
        };
        const run = await variantRun("dev", (v) => { v["aks-istio-mesh:apps"] = [{ name: "hello", spec: hello }]; v["aks-istio-mesh:ingress"] = { hosts: {} }; });
        assert.deepStrictEqual(allowedEdges(run).filter((e) => !e.startsWith(KIALI_NAMESPACE)), ["hello/web -> hello/api:9000", "ingress -> hello/web:80"]);
        const web = kubeObjects(run, "AuthorizationPolicy").find((a) => a.metadata.name === "allow-web")!;
        assert.deepStrictEqual(web.spec.rules[0].to, [{ operation: { ports: ["8080"] } }], "policies match the container port, not the Service port");
    });

    describe("mTLS exceptions", () => {
        const exception = { namespace: "pets", selector: { app: "rabbitmq" }, port: 15672, reason: "management UI scraped by a non-mesh monitor" };

        it("relax one port of the selected workloads and nothing else", async () => {
            const run = await variantRun("prod", (v) => { v[MESH].mtlsExceptions = [exception]; });
            const relaxed = kubeObjects(run, "PeerAuthentication").filter((p) => JSON.stringify(p.spec).includes("PERMISSIVE"));
            assert.deepStrictEqual(relaxed.map((p) => [p.metadata.namespace, p.spec]), [
                ["pets", { selector: { matchLabels: { app: "rabbitmq" } }, mtls: { mode: "STRICT" }, portLevelMtls: { 15672: { mode: "PERMISSIVE" } } }],
            ]);
        });

        it("relax a whole workload when no port is given", async () => {
            const whole = { namespace: "pets", selector: { app: "rabbitmq" }, reason: exception.reason };
            const run = await variantRun("dev", (v) => { v[MESH].mtlsExceptions = [whole]; });
            const relaxed = kubeObjects(run, "PeerAuthentication").filter((p) => p.spec.selector);
            assert.deepStrictEqual(relaxed.map((p) => p.spec), [{ selector: { matchLabels: { app: "rabbitmq" } }, mtls: { mode: "PERMISSIVE" } }]);
        });

        const refusals: [string, Record<string, unknown>, RegExp][] = [
            ["a namespace-wide exception", { namespace: "pets", reason: "x" }, /mtlsExceptions\[0\]\.selector: is required/],
            ["an exception without a reason", { namespace: "pets", selector: { app: "rabbitmq" } }, /mtlsExceptions\[0\]\.reason: must be a non-empty string/],
            ["an exception outside the app namespaces", { ...exception, namespace: "kube-system" }, /mtlsExceptions\[0\]\.namespace: "kube-system" is not allowed; allowed: pets, bookinfo/],
        ];
        for (const [what, value, message] of refusals) {
            it(`refuses ${what}`, () => {
                const values = configValues("dev", (v) => { v[MESH].mtlsExceptions = [value]; });
                assert.throws(() => parseStackConfig("dev", values), (e: Error) => {
                    assert.ok(pulumi.RunError.isInstance(e));
                    assert.match(e.message, /^aks-istio-mesh:mesh\.mtlsExceptions\[0\]/);
                    assert.match(e.message, message);
                    return true;
                });
            });
        }
    });
});
