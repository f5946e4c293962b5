/**
 * Serves the pack the way `pulumi preview --policy-pack policy-pack` does: the analyzer plugin runs
 * `node <@pulumi/pulumi/cmd/run-policy-pack> <engine-address> .` in the pack directory (which
 * registers ts-node with policy-pack/tsconfig.json and type-checks the pack), the pack prints its
 * port, and the engine drives the Analyzer gRPC service. Verdicts must equal `evaluate`.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as rpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as pb from "@pulumi/pulumi/proto/analyzer_pb";
import { evaluate, KubeObject, PackConfigInput, POLICIES, toPolicyObject, Violation } from "../../policy-pack/rules";
import { STACKS, stackRun } from "../helpers";
import { formatMessage } from "../../policy-pack/policies";
import { asPulumiResource, brokenMesh, goodMesh, NS, peerAuthentication } from "./fixtures/mesh";
import { UNKNOWN, UNKNOWN_ARRAY } from "./harness";
import { call, PackServer, startPolicyPack } from "./pack-server";

const PACK_DIR = path.resolve(__dirname, "../../policy-pack");
// Message classes must come from the protobuf runtime @pulumi/pulumi's generated code uses.
const PULUMI_DIR = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Struct } = require(require.resolve("google-protobuf/google/protobuf/struct_pb", { paths: [PULUMI_DIR] })) as typeof import("google-protobuf/google/protobuf/struct_pb");

const LEVEL: Record<number, string> = { [pb.EnforcementLevel.ADVISORY]: "advisory", [pb.EnforcementLevel.MANDATORY]: "mandatory", [pb.EnforcementLevel.DISABLED]: "disabled" };
const TO_LEVEL: Record<string, pb.EnforcementLevel> = { advisory: pb.EnforcementLevel.ADVISORY, mandatory: pb.EnforcementLevel.MANDATORY, disabled: pb.EnforcementLevel.DISABLED };

type Resource = ReturnType<typeof asPulumiResource>;

function analyzeRequest(r: Resource): pb.AnalyzeRequest {
    // Without options the server answers "A more recent version of the Pulumi CLI is required".
    return new pb.AnalyzeRequest().setType(r.type).setName(r.name).setUrn(r.urn)
        .setProperties(Struct.fromJavaScript(r.props as never)).setOptions(new pb.AnalyzerResourceOptions());
}

function stackRequest(resources: readonly Resource[]): pb.AnalyzeStackRequest {
    return new pb.AnalyzeStackRequest().setResourcesList(resources.map((r) => new pb.AnalyzerResource()
        .setType(r.type).setName(r.name).setUrn(r.urn).setProperties(Struct.fromJavaScript(r.props as never)).setOptions(new pb.AnalyzerResourceOptions())));
}

/** A diagnostic as `policy|level|message|urn`, with the description CrossGuard prefixes removed. */
function diagnostic(d: pb.AnalyzeDiagnostic): string {
    const prefix = `${d.getDescription()}\n`;
    const message = d.getMessage().startsWith(prefix) ? d.getMessage().slice(prefix.length) : d.getMessage();
    return `${d.getPolicyname()}|${LEVEL[d.getEnforcementlevel()]}|${message}|${d.getUrn()}`;
}

function expected(violations: readonly Violation[], scope: "resource" | "stack", urnOf: (v: Violation) => string): string[] {
    const scoped = new Set(POLICIES.filter((p) => p.scope === scope).map((p) => p.name));
    return violations.filter((v) => scoped.has(v.policy)).map((v) => `${v.policy}|${v.enforcement}|${formatMessage(v)}|${urnOf(v)}`).sort();
}

function sameObject(o: KubeObject, v: Violation): boolean {
    return o.kind === v.kind && o.metadata?.name === v.name && (v.namespace === undefined || (o.metadata?.namespace ?? "default") === v.namespace);
}

describe("policy pack served over the Analyzer gRPC service", function () {
    this.timeout(60000);
    let server: PackServer | undefined;
    let client: rpc.AnalyzerClient;
    let info: pb.AnalyzerInfo;

    before(async () => {
        server = await startPolicyPack(PACK_DIR);
        ({ client, info } = server);
    });

    after(() => {
        server?.stop();
    });

    /** Sends the config the CLI would after reconciling a --policy-pack-config file with the served schemas. */
    async function configure(file: Record<string, unknown>): Promise<void> {
        const req = new pb.ConfigureAnalyzerRequest();
        for (const p of info.getPoliciesList()) {
            const defaults = Object.fromEntries(Object.entries(p.getConfigschema()?.getProperties()?.toJavaScript() ?? {})
                .filter(([, s]) => (s as { default?: unknown }).default !== undefined).map(([k, s]) => [k, (s as { default: unknown }).default]));
            const entry = file[p.getName()];
            const level = typeof entry === "string" ? entry : (entry as { enforcementLevel?: string } | undefined)?.enforcementLevel
                ?? (file.all as string | undefined) ?? LEVEL[p.getEnforcementlevel()];
            const given: Record<string, unknown> = typeof entry === "object" && entry !== null ? { ...entry } : {};
            delete given.enforcementLevel;
            req.getPolicyconfigMap().set(p.getName(), new pb.PolicyConfig().setEnforcementlevel(TO_LEVEL[level])
                .setProperties(Struct.fromJavaScript({ ...defaults, ...given } as never)));
        }
        await call(client.configure.bind(client) as never, req);
    }

    async function analyzeAll(resources: readonly Resource[]): Promise<{ resource: string[]; stack: string[] }> {
        const resource: string[] = [];
        for (const r of resources) {
            const res = await call(client.analyze.bind(client) as never, analyzeRequest(r)) as pb.AnalyzeResponse;
            // Resource diagnostics carry no URN; the engine attaches the resource's own.
            resource.push(...res.getDiagnosticsList().map((d) => diagnostic(d).replace(/\|$/, `|${r.urn}`)));
        }
        const res = await call(client.analyzeStack.bind(client) as never, stackRequest(resources)) as pb.AnalyzeResponse;
        return { resource: resource.sort(), stack: res.getDiagnosticsList().map(diagnostic).sort() };
    }

    /**
     * Sends `resources` as the engine would and compares with `evaluate` on `objects`, where
     * `objects[i]` is what the pack sees of `urns[i]` (by default the objects as Pulumi resources).
     */
    async function assertSameVerdicts(objects: KubeObject[], file: Record<string, unknown>,
        resources: readonly Resource[] = objects.map(asPulumiResource), urns = resources.map((r) => r.urn)): Promise<number> {
        await configure(file);
        const got = await analyzeAll(resources);
        const unit = evaluate(objects, { policies: file } as PackConfigInput);
        const urnOf = (v: Violation) => { const i = objects.findIndex((o) => sameObject(o, v)); return i < 0 ? "" : urns[i]; };
        assert.deepStrictEqual(got.resource, expected(unit, "resource", urnOf));
        assert.deepStrictEqual(got.stack, expected(unit, "stack", urnOf));
        return got.resource.length + got.stack.length;
    }

    it("publishes the pack and every policy with its metadata and configSchema", () => {
        assert.strictEqual(info.getName(), "aks-istio-mesh");
        assert.strictEqual(info.getVersion(), "0.1.0");
        const served = info.getPoliciesList();
        assert.deepStrictEqual(served.map((p) => p.getName()), POLICIES.map((p) => p.name));
        for (const p of served) {
            const meta = POLICIES.find((x) => x.name === p.getName())!;
            assert.strictEqual(LEVEL[p.getEnforcementlevel()], meta.enforcement);
            assert.strictEqual(p.getDescription(), meta.description);
            assert.deepStrictEqual(Object.keys(p.getConfigschema()?.getProperties()?.toJavaScript() ?? {}).sort(), [...meta.settings].sort());
        }
    });

    it("gives the verdicts of evaluate on the valid mesh (none) and the broken mesh, with default config", async () => {
        assert.strictEqual(await assertSameVerdicts(goodMesh(), {}), 0);
        assert.ok(await assertSameVerdicts(brokenMesh(), {}) >= 10);
    });

    for (const stack of STACKS) {
        it(`gives the verdicts of evaluate on the program's own ${stack} resources, with the stack's policy config`, async () => {
            const run = await stackRun(stack);
            const file = JSON.parse(fs.readFileSync(path.join(PACK_DIR, "config", `${stack}.json`), "utf8"));
            const checked = run.resources.flatMap((r) => {
                const o = toPolicyObject(r.type, r.name, r.inputs);
                return o ? [{ o, urn: r.urn }] : [];
            });
            const all = run.resources.map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: r.inputs }));
            assert.ok(await assertSameVerdicts(checked.map((c) => c.o), file, all, checked.map((c) => c.urn)) > 0, "expected the advisories the program accepts");
        });
    }

    it("gives the verdicts of evaluate under a --policy-pack-config (levels, environment, exceptions)", async () => {
        const file = {
            all: "advisory",
            "virtual-service-references": "mandatory",
            "envoy-filter-patches": "disabled",
            "peer-authentication-strict": { mtlsExceptions: [{ namespace: NS, selector: { app: "api" }, port: 8080 }] },
            "gateway-wildcard-host": { environment: "dev" },
            "gateway-wildcard-host-dev": { environment: "dev" },
            "workload-availability": { environment: "dev" },
        };
        const objects = brokenMesh();
        objects.find((o) => o.kind === "Gateway")!.spec = { selector: { istio: "aks-istio-ingressgateway-external" }, servers: [{ port: { number: 80, name: "http", protocol: "HTTP" }, hosts: ["*"] }] };
        assert.ok(await assertSameVerdicts(objects, file) > 0);
        await configure({});
    });

    it("turns a read of a value unknown during preview into an advisory, leaving other policies' verdicts", async () => {
        await configure({});
        const pa = asPulumiResource(peerAuthentication("api", NS, { selector: { matchLabels: { app: "api" } }, mtls: { mode: UNKNOWN }, portLevelMtls: { 8080: { mode: "DISABLE" } } }));
        const res = await call(client.analyze.bind(client) as never, analyzeRequest(pa)) as pb.AnalyzeResponse;
        const d = res.getDiagnosticsList();
        assert.strictEqual(d.length, 1);
        assert.strictEqual(d[0].getPolicyname(), "peer-authentication-strict");
        assert.strictEqual(d[0].getEnforcementlevel(), pb.EnforcementLevel.ADVISORY);
        assert.match(d[0].getMessage(), /can't run policy 'peer-authentication-strict' from policy pack 'aks-istio-mesh@v0\.1\.0' during preview: string value at \.spec\.mtls\.mode can't be known during preview/);
        assert.ok(res.getNotApplicableList().some((n) => n.getPolicyName() === "aks-mesh-profile"));

        const objects = goodMesh();
        const web = objects.find((o) => o.kind === "Service" && o.metadata?.name === "web")!;
        (web.spec as Record<string, unknown>).ports = UNKNOWN_ARRAY;
        const stack = await call(client.analyzeStack.bind(client) as never, stackRequest(objects.map(asPulumiResource))) as pb.AnalyzeResponse;
        const diagnostics = stack.getDiagnosticsList();
        // Only the rule that needs web's port list (its route names port 80) cannot run; the others still judge.
        assert.deepStrictEqual(diagnostics.map((x) => `${x.getPolicyname()}|${LEVEL[x.getEnforcementlevel()]}`), ["virtual-service-references|advisory"]);
        assert.ok(diagnostics.every((x) => /can't run policy .* during preview: Array value at \.spec\.ports can't be known/.test(x.getMessage())));
    });
});
