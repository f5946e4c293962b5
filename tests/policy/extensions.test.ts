import * as assert from "assert";
import { KubeObject } from "../../policy-pack/rules";
import { NS } from "./fixtures/mesh";
import { cases, verdicts } from "./helpers";

function envoyFilter(configPatches: unknown[], extra: Record<string, unknown> = {}): KubeObject {
    return { apiVersion: "networking.istio.io/v1alpha3", kind: "EnvoyFilter", metadata: { name: "ef", namespace: NS }, spec: { configPatches, ...extra } };
}

function patch(applyTo: string, operation: string, more: Record<string, unknown> = {}): Record<string, unknown> {
    return { applyTo, match: { context: "SIDECAR_INBOUND" }, patch: { operation, value: { name: "envoy.filters.http.local_ratelimit" } }, ...more };
}

const UNSUPPORTED = "envoy-filter-unsupported";

describe("policy: aks-blocked-istio-apis", () => {
    const blocked: [string, string][] = [
        ["networking.istio.io/v1beta1", "ProxyConfig"],
        ["networking.istio.io/v1", "WorkloadEntry"],
        ["networking.istio.io/v1alpha3", "WorkloadGroup"],
        ["install.istio.io/v1alpha1", "IstioOperator"],
        ["extensions.istio.io/v1alpha1", "WasmPlugin"],
    ];
    for (const [apiVersion, kind] of blocked) {
        it(`refuses ${kind} (${apiVersion})`, () => {
            // An empty WorkloadEntry/WorkloadGroup is one istiod would refuse too (no address, no template).
            const istiod = kind === "WorkloadEntry" || kind === "WorkloadGroup" ? ["workload-entry-istiod"] : [];
            assert.deepStrictEqual(verdicts([{ apiVersion, kind, metadata: { name: "x", namespace: NS }, spec: {} }]), ["aks-blocked-istio-apis", ...istiod]);
        });
    }

    it("lets allowed Istio APIs and look-alike kinds of other groups through", () => {
        assert.deepStrictEqual(verdicts([{ apiVersion: "example.com/v1", kind: "WasmPlugin", metadata: { name: "x" } }]), []);
        assert.deepStrictEqual(verdicts([{ apiVersion: "telemetry.istio.io/v1", kind: "Telemetry", metadata: { name: "x", namespace: NS }, spec: {} }]), []);
    });
});

describe("policy: envoy-filter-unsupported and envoy-filter-patches", () => {
    /** name, EnvoyFilter, envoy-filter-patches codes, other rules it trips. */
    const table: [string, KubeObject, string[], string[]?][] = [
        ["an absolute INSERT_FIRST needs no priority", envoyFilter([patch("HTTP_FILTER", "INSERT_FIRST")]), []],
        ["a relative INSERT_BEFORE with a priority is fine", envoyFilter([patch("HTTP_FILTER", "INSERT_BEFORE")], { priority: 10 }), []],
        ["MERGE on a route is fine", envoyFilter([patch("HTTP_ROUTE", "MERGE")]), []],
        ["a relative INSERT_BEFORE without priority (IST0151)", envoyFilter([patch("HTTP_FILTER", "INSERT_BEFORE")]), ["IST0151"]],
        ["REMOVE on a listener without priority (IST0151)", envoyFilter([patch("LISTENER", "REMOVE")]), ["IST0151"]],
        ["REPLACE outside HTTP_FILTER/NETWORK_FILTER (IST0152)", envoyFilter([patch("CLUSTER", "REPLACE")]), ["IST0152"]],
        ["ADD on HTTP_ROUTE is ignored by Istio (IST0153)", envoyFilter([patch("HTTP_ROUTE", "ADD")]), ["IST0153"]],
        ["REMOVE on ROUTE_CONFIGURATION is ignored by Istio (IST0154)", envoyFilter([patch("ROUTE_CONFIGURATION", "REMOVE")]), ["IST0154"]],
        [
            "a relative operation on a filter another patch pins to a proxyVersion (IST0155)",
            envoyFilter([
                patch("HTTP_FILTER", "MERGE", { match: { context: "SIDECAR_INBOUND", proxy: { proxyVersion: "^1\\.30.*" } } }),
                patch("HTTP_FILTER", "INSERT_AFTER"),
            ]),
            ["IST0155"],
        ],
        ["a patch without a patch section ends the scan (as istioctl does)", envoyFilter([{ applyTo: "HTTP_FILTER" }, patch("CLUSTER", "REPLACE")]), [], ["envoy-filter-istiod"]],
    ];
    // Added to the good mesh through `cases`, so the istioctl parity table (tests/e2e/parity.ts) replays them too.
    cases(table.map(([name, ef, codes, others = []]) => ({ name, change: (o: KubeObject[]) => { o.push(ef); }, expect: [UNSUPPORTED, ...codes.map((c) => `envoy-filter-patches:${c}`), ...others] })));
});
