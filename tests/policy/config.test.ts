import * as assert from "assert";
import { SUPPORTED_REVISIONS } from "../../policy-pack/lib/revisions";
import { ConfigError, evaluate, POLICIES, policyConfigSchema, resolveConfig, SETTINGS, toPolicyPackConfig } from "../../policy-pack/rules";
import { brokenMesh, find, goodMesh, ROOT } from "./fixtures/mesh";
import { verdicts } from "./helpers";

/** One mandatory and one advisory finding, for enforcement tests. */
function twoFindings() {
    const objects = goodMesh();
    find(objects, "PeerAuthentication", "default", ROOT).spec.mtls.mode = "PERMISSIVE";
    find(objects, "Service", "web").spec.ports[0].name = "web";
    return objects;
}

describe("policy config", () => {
    it("the valid mesh passes every policy, in prod (the default) and in dev", () => {
        assert.deepStrictEqual(verdicts(goodMesh()), []);
        assert.deepStrictEqual(verdicts(goodMesh(), { environment: "dev" }), []);
    });

    it("runs with no config, on the documented defaults", () => {
        const c = resolveConfig();
        assert.strictEqual(c.settings.rootNamespace, "aks-istio-system");
        assert.deepStrictEqual(c.settings.allowedRevisions, SUPPORTED_REVISIONS.map((r) => r.revision));
        assert.deepStrictEqual(c.settings.revisionTags, []);
        assert.deepStrictEqual(c.settings.mtlsExceptions, []);
        assert.strictEqual(c.settings.environment, "prod");
        assert.ok(c.settings.systemNamespaces.includes("kube-system") && c.settings.systemNamespaces.includes("aks-istio-ingress"));
        assert.deepStrictEqual(c.settings.gatewaySelectors, ["aks-istio-ingressgateway-external", "aks-istio-ingressgateway-internal"]);
    });

    it("hands out fresh defaults (a caller mutating them changes nothing)", () => {
        resolveConfig().settings.systemNamespaces.push("shop");
        assert.ok(!resolveConfig().settings.systemNamespaces.includes("shop"));
    });

    const invalid: [string, unknown, RegExp][] = [
        ["a wrong type", { rootNamespace: 5 }, /^rootNamespace: must be a string$/],
        ["an empty name", { rootNamespace: "" }, /^rootNamespace: must not be empty$/],
        ["an unknown setting", { rootNamespce: "x" }, /^rootNamespce: is not a known setting \(known: rootNamespace, /],
        ["an environment outside the enum", { environment: "staging" }, /^environment: must be one of prod, dev \(got "staging"\)$/],
        ["an exception without namespace", { mtlsExceptions: [{ port: 8080 }] }, /^mtlsExceptions\[0\]\.namespace: is required$/],
        ["an exception port out of range", { mtlsExceptions: [{ namespace: "a", port: 70000 }] }, /^mtlsExceptions\[0\]\.port: must be between 1 and 65535$/],
        ["an exception with an unknown field", { mtlsExceptions: [{ namespace: "a", ports: [1] }] }, /^mtlsExceptions\[0\]\.ports: is not a known field \(known: namespace, selector, port, mode, reason\)$/],
        ["an exception port that is not whole", { mtlsExceptions: [{ namespace: "a", port: 80.5 }] }, /^mtlsExceptions\[0\]\.port: must be an integer$/],
        ["a list given as a string", { systemNamespaces: "kube-system" }, /^systemNamespaces: must be a list$/],
        ["a selector with a non-string value", { mtlsExceptions: [{ namespace: "a", selector: { app: 1 } }] }, /^mtlsExceptions\[0\]\.selector\.app: must be a string$/],
        ["an unknown policy", { policies: { "peer-authentication-strct": "advisory" } }, /^peer-authentication-strct: is not a policy of this pack/],
        ["an unknown level", { policies: { all: "warn" } }, /^all: must be one of mandatory, advisory, disabled, remediate/],
        ["a per-policy bad setting", { policies: { "mesh-mtls-strict": { rootNamespace: [] } } }, /^mesh-mtls-strict\.rootNamespace: must be a string$/],
    ];
    for (const [what, input, message] of invalid) {
        it(`rejects ${what} with a message naming the key`, () => {
            assert.throws(() => resolveConfig(input as never), (e: unknown) => {
                assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
                assert.match(e.message, message);
                return true;
            });
        });
    }

    it("applies CrossGuard enforcement precedence: policy entry > all > default", () => {
        const levels = (policies: Record<string, unknown>) => evaluate(twoFindings(), { policies: policies as never })
            .map((v) => `${v.policy}=${v.enforcement}`).sort();
        assert.deepStrictEqual(levels({}), ["peer-authentication-strict=mandatory", "service-port-names=advisory"]);
        assert.deepStrictEqual(levels({ all: "advisory" }), ["peer-authentication-strict=advisory", "service-port-names=advisory"]);
        assert.deepStrictEqual(levels({ all: "advisory", "service-port-names": { enforcementLevel: "mandatory" } }), ["peer-authentication-strict=advisory", "service-port-names=mandatory"]);
        assert.deepStrictEqual(levels({ "peer-authentication-strict": "disabled" }), ["service-port-names=advisory"]);
        assert.deepStrictEqual(levels({ "service-port-names": "remediate" }), ["peer-authentication-strict=mandatory", "service-port-names=mandatory"]);
    });

    it("accepts a --policy-pack-config document as is, settings scoped per policy", () => {
        const file = JSON.parse(JSON.stringify({
            all: "mandatory",
            "gateway-wildcard-host": { environment: "dev" },
            "gateway-wildcard-host-dev": { enforcementLevel: "advisory", environment: "dev" },
        }));
        const objects = goodMesh();
        find(objects, "Gateway", "web-gateway").spec.servers[0].hosts = ["*"];
        assert.deepStrictEqual(evaluate(objects, { policies: file }).map((v) => `${v.policy}=${v.enforcement}`), ["gateway-wildcard-host-dev=advisory"]);
        assert.deepStrictEqual(verdicts(objects, { environment: "dev" }), ["gateway-wildcard-host-dev"]);
    });

    it("turns flat settings into the per-policy document CrossGuard needs, with the same verdicts", () => {
        const flat = { environment: "dev" as const, mtlsExceptions: [{ namespace: "shop", selector: { app: "api" }, port: 8080, reason: "probe" }] };
        const file = toPolicyPackConfig(flat);
        assert.deepStrictEqual(file["gateway-wildcard-host-dev"], { environment: "dev" });
        assert.deepStrictEqual(Object.keys(file["peer-authentication-strict"]), ["mtlsExceptions"]);
        assert.strictEqual(file["destination-rule-tls"], undefined);
        const objects = brokenMesh();
        find(objects, "Gateway", "web-gateway").spec.servers[1].hosts = ["*"];
        assert.deepStrictEqual(evaluate(objects, { policies: file }), evaluate(objects, flat));
        assert.notDeepStrictEqual(evaluate(objects, flat), evaluate(objects));
        assert.throws(() => toPolicyPackConfig({ environment: "qa" as never }), ConfigError);
    });

    it("derives every policy's configSchema from the zod setting definitions, defaults and descriptions included", () => {
        const defaults = resolveConfig().settings;
        for (const p of POLICIES) {
            const schema = policyConfigSchema(p);
            assert.deepStrictEqual(Object.keys(schema?.properties ?? {}), [...p.settings], p.name);
            for (const key of p.settings) {
                const property = schema!.properties[key];
                assert.deepStrictEqual(property.default, defaults[key], `${p.name}.${key}`);
                assert.strictEqual(property.description, SETTINGS[key].description);
                assert.ok(property.description, `${key} has no description`);
                assert.ok(!("$schema" in property), "a property schema carries $schema");
            }
        }
        const exceptions = policyConfigSchema(POLICIES.find((p) => p.settings.includes("mtlsExceptions"))!)!.properties.mtlsExceptions;
        assert.deepStrictEqual((exceptions.items as { required: string[] }).required, ["namespace"]);
        assert.strictEqual((exceptions.items as { additionalProperties: boolean }).additionalProperties, false);
    });
});

describe("policy metadata", () => {
    it("is complete for every policy and fits CrossGuard's rules", () => {
        const names = new Set<string>();
        for (const p of POLICIES) {
            assert.match(p.name, /^[a-z0-9-]+$/);
            assert.notStrictEqual(p.name, "all");
            assert.ok(!names.has(p.name), `duplicate ${p.name}`);
            names.add(p.name);
            assert.match(p.description, /\.$|\)\.?$/, p.name);
            assert.ok(p.remediation.length > 20, p.name);
            assert.ok(["low", "medium", "high", "critical"].includes(p.severity));
            assert.ok(["mandatory", "advisory"].includes(p.enforcement));
            assert.ok(!p.code || /^IST\d{4}(, IST\d{4})*$/.test(p.code), p.name);
            assert.ok(!(p.settings as string[]).includes("enforcementLevel"));
            assert.ok(p.kinds.length > 0);
        }
    });

    it("mirrors at least 14 istioctl analyze codes", () => {
        const codes = new Set(POLICIES.flatMap((p) => (p.code ? p.code.split(", ") : [])));
        assert.ok(codes.size >= 14, `${codes.size} codes: ${[...codes].join(" ")}`);
    });
});
