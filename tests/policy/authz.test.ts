import { find, NS } from "./fixtures/mesh";
import { cases, remove } from "./helpers";

type Objects = Parameters<typeof find>[0];
const AP = "AuthorizationPolicy";
const denyAll = (o: Objects) => find(o, AP, "allow-nothing");
const apiPolicy = (o: Objects) => find(o, AP, "api-from-web");
const source = (o: Objects) => apiPolicy(o).spec.rules[0].from[0].source;

describe("policy: authorization-policy-safe", () => {
    cases([
        { name: "a rule {} allows everything", change: (o) => { apiPolicy(o).spec.rules = [{}]; }, expect: ["authorization-policy-safe"] },
        { name: "a rule whose clauses are all empty allows everything", change: (o) => { apiPolicy(o).spec.rules = [{ from: [{ source: {} }], to: [{ operation: {} }] }]; }, expect: ["authorization-policy-safe"] },
        { name: "an unset action is ALLOW", change: (o) => { delete apiPolicy(o).spec.action; apiPolicy(o).spec.rules = [{}]; }, expect: ["authorization-policy-safe"] },
        { name: "principals \"*\" is refused", change: (o) => { source(o).principals = ["*"]; }, expect: ["authorization-policy-safe"] },
        { name: "namespaces \"*\" is refused", change: (o) => { source(o).namespaces = ["*"]; }, expect: ["authorization-policy-safe"] },
        { name: "notPrincipals in an ALLOW is refused", change: (o) => { source(o).notPrincipals = ["cluster.local/ns/shop/sa/evil"]; }, expect: ["authorization-policy-safe"] },
        { name: "notPaths in an ALLOW is refused", change: (o) => { apiPolicy(o).spec.rules[0].to[0].operation.notPaths = ["/admin"]; }, expect: ["authorization-policy-safe"] },
        { name: "when.notValues in an ALLOW is refused", change: (o) => { apiPolicy(o).spec.rules[0].when = [{ key: "request.headers[x-env]", notValues: ["prod"] }]; }, expect: ["authorization-policy-safe"] },
        { name: "negative matchers belong in DENY policies", change: (o) => { apiPolicy(o).spec.action = "DENY"; source(o).notPrincipals = ["*"]; }, expect: [] },
        { name: "security.istio.io/v1beta1 is matched like v1", change: (o) => { apiPolicy(o).apiVersion = "security.istio.io/v1beta1"; apiPolicy(o).spec.rules = [{}]; }, expect: ["authorization-policy-safe"] },
    ]);
});

describe("policy: authorization-default-deny", () => {
    cases([
        { name: "no default-deny anywhere leaves mesh namespaces open", change: (o) => remove(o, AP, "allow-nothing"), expect: ["authorization-default-deny"] },
        { name: "a namespace-level allow-nothing covers its namespace", change: (o) => { denyAll(o).metadata.namespace = NS; }, expect: [] },
        { name: "an allow-nothing with a selector covers only those workloads", change: (o) => { denyAll(o).spec = { selector: { matchLabels: { app: "api" } } }; }, expect: ["authorization-default-deny"] },
        { name: "an ALLOW with rules is no default-deny (and here allows all)", change: (o) => { denyAll(o).spec = { rules: [{}] }; }, expect: ["authorization-default-deny", "authorization-policy-safe"] },
        { name: "a DENY without rules denies nothing", change: (o) => { denyAll(o).spec = { action: "DENY" }; }, expect: ["authorization-default-deny", "authorization-policy-action"] },
        { name: "an allow-nothing in a non-root, non-mesh namespace covers nothing", change: (o) => { denyAll(o).metadata.namespace = "other"; }, expect: ["authorization-default-deny", "authorization-policy-workloads:IST0127"] },
        { name: "the root namespace is configurable", change: (o) => { denyAll(o).metadata.namespace = "istio-system"; }, config: { policies: { "authorization-default-deny": { rootNamespace: "istio-system" } } }, expect: ["authorization-policy-workloads:IST0127"] },
        { name: "a disabled policy reports nothing", change: (o) => remove(o, AP, "allow-nothing"), config: { policies: { "authorization-default-deny": "disabled" } }, expect: [] },
    ]);
});

describe("policy: request-authentication-pairs", () => {
    const ISSUER = "https://login.example.com/";
    const ra = (selector?: Record<string, string>, issuer = ISSUER) => ({
        apiVersion: "security.istio.io/v1", kind: "RequestAuthentication", metadata: { name: "end-user", namespace: NS },
        spec: { ...(selector ? { selector: { matchLabels: selector } } : {}), jwtRules: [{ issuer, jwksUri: "https://login.example.com/keys" }] },
    });
    const requireToken = (o: Objects) => { source(o).requestPrincipals = [`${ISSUER}/*`]; };
    cases([
        { name: "a required token with its RequestAuthentication on the workload is fine", change: (o) => { requireToken(o); o.push(ra(apiPolicy(o).spec.selector.matchLabels)); }, expect: [] },
        { name: "a namespace-wide RequestAuthentication covers the workload", change: (o) => { requireToken(o); o.push(ra()); }, expect: [] },
        { name: "a required token nobody validates denies everything", change: requireToken, expect: ["request-authentication-pairs"] },
        { name: "a RequestAuthentication of another issuer does not count", change: (o) => { requireToken(o); o.push(ra(undefined, "https://other.example.com/")); }, expect: ["request-authentication-pairs", "request-authentication-pairs"] },
        { name: "a token validated but never required lets requests without one through", change: (o) => { o.push(ra(apiPolicy(o).spec.selector.matchLabels)); }, expect: ["request-authentication-pairs"] },
    ]);
});
