import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigError } from "../policy-pack/lib/errors";
import { SUPPORTED_REVISIONS } from "../policy-pack/lib/revisions";
import { ROOT } from "../tools/offline/runtime";
import { cacheRoot, classifyGoFailure, goBuildArgs, wrapperGoMod } from "../tools/upstream/build";
import { findPin, istioctlForRevision, locate, Lookup, parseVersion, PINS, probeVersion, resolveTool, ToolPin, ToolUnavailableError } from "../tools/upstream";
import { compareVersions, stagingReplaces } from "../tools/upstream/pins";

const pin = (name: string, version?: string): ToolPin => {
    const p = findPin(name, version);
    assert.ok(p, `${name} ${version ?? ""} is pinned`);
    return p;
};

/** A directory of shell scripts standing in for binaries: each prints the given version output. */
function fakeBinaries(outputs: Record<string, string>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-tools-"));
    for (const [name, output] of Object.entries(outputs)) {
        fs.writeFileSync(path.join(dir, name), `#!/bin/sh\nprintf '%s\\n' '${output}'\n`, { mode: 0o755 });
    }
    return dir;
}

function runFrontDoor(script: string, args: string[], env: NodeJS.ProcessEnv) {
    return spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "tools", script), ...args], { cwd: ROOT, env, encoding: "utf8" });
}

describe("upstream tools: pins", () => {
    it("pins an istioctl for every supported revision, at that revision's Istio minor", () => {
        for (const r of SUPPORTED_REVISIONS) {
            const p = PINS.find((x) => x.name === "istioctl" && x.revision === r.revision);
            assert.ok(p, `no istioctl pinned for ${r.revision}`);
            assert.ok(p.version.startsWith(`${r.istio}.`), `${r.revision}: istioctl ${p.version} is not Istio ${r.istio}`);
        }
    });

    it("gives every pin either a build recipe or the exact reason it cannot be built, never both", () => {
        for (const p of PINS) {
            assert.ok(!!p.build !== !!p.unavailable, `${p.name} ${p.version}`);
            if (p.unavailable) assert.match(p.unavailable, /403 Forbidden|not available/, `${p.name}: the reason quotes the proxy`);
        }
    });

    it("builds the four Kubernetes binaries from one wrapper, with PGO off, at the stacks' minor", () => {
        const kube = ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl"].map((n) => pin(n));
        assert.ok(kube.every((p) => p.build === kube[0].build && p.version === "1.34.4"));
        const args = goBuildArgs(kube[0].build!, "/out");
        assert.ok(args.includes("-pgo=off") && args.includes("/out/"));
        assert.ok(args.includes("k8s.io/kubernetes/cmd/kubectl"));
    });

    it("uses Istio's release build tags and version stamp for istioctl", () => {
        const args = goBuildArgs(pin("istioctl", "1.30.3").build!, "/out");
        assert.deepEqual(args.slice(args.indexOf("-tags"), args.indexOf("-tags") + 2), ["-tags", "vtprotobuf,disable_pgv"]);
        assert.match(args[args.indexOf("-ldflags") + 1], /^-s -w -X istio\.io\/istio\/pkg\/version\.buildVersion=1\.30\.3$/);
        assert.equal(args[args.indexOf("-o") + 1], "/out/istioctl");
    });

    it("maps the staging modules Kubernetes requires to the published v0 modules, skipping replace-only ones", () => {
        const goMod = "module k8s.io/kubernetes\n\nrequire (\n\tk8s.io/api v0.0.0\n\tk8s.io/kube-scheduler v0.0.0\n)\n\nreplace (\n\tk8s.io/api => ./staging/src/k8s.io/api\n\tk8s.io/kube-scheduler => ./staging/src/k8s.io/kube-scheduler\n\tk8s.io/sample-controller => ./staging/src/k8s.io/sample-controller\n\tgithub.com/x/y => github.com/x/z v1.0.0\n)\n";
        assert.deepEqual(stagingReplaces(goMod, "1.34.4"), [
            { from: "k8s.io/api", to: "k8s.io/api", version: "v0.34.4" },
            { from: "k8s.io/kube-scheduler", to: "k8s.io/kube-scheduler", version: "v0.34.4" },
        ]);
    });

    it("writes a wrapper go.mod that requires the module and its companions and repeats the replaces", () => {
        const text = wrapperGoMod(pin("pulumi").build!, pin("pulumi").build!.replaces!);
        assert.match(text, /^require \(\n\tgithub\.com\/pulumi\/pulumi\/pkg\/v3 v3\.276\.0\n\tgithub\.com\/pulumi\/pulumi\/sdk\/v3 v3\.276\.0\n\)$/m);
        assert.match(text, /github\.com\/atotto\/clipboard => github\.com\/tgummerer\/clipboard v0\.0\.0-/);
    });

    it("builds the Kubernetes provider inside a copy of its module: the SDK replace, its generator, the version stamp", () => {
        const p = pin("pulumi-resource-kubernetes");
        assert.equal(p.version, "4.25.0");
        assert.ok(p.versionOverGrpc, "a plugin reports its version over gRPC, not with a flag");
        const recipe = p.build!;
        assert.deepEqual(recipe.inModule?.replaces, [{ from: "github.com/pulumi/pulumi-kubernetes/sdk/v4", to: "github.com/pulumi/pulumi-kubernetes/sdk/v4", version: "v4.25.0" }]);
        assert.deepEqual(recipe.inModule?.generate, { dir: "cmd/pulumi-resource-kubernetes", args: ["generate.go"], env: { VERSION: "4.25.0" } });
        const args = goBuildArgs(recipe, "/out");
        assert.equal(args[args.length - 1], "./cmd/pulumi-resource-kubernetes");
        assert.equal(args[args.indexOf("-o") + 1], "/out/pulumi-resource-kubernetes");
        assert.match(args[args.indexOf("-ldflags") + 1], /-X github\.com\/pulumi\/pulumi-kubernetes\/provider\/v4\/pkg\/version\.Version=4\.25\.0$/);
    });

    it("finds the newest pin of a name when no version is given", () => {
        assert.equal(findPin("istioctl")?.version, "1.30.3");
        assert.ok(compareVersions("1.30.3", "1.29.10") > 0 && compareVersions("3.6.16", "3.6.2") > 0);
    });
});

describe("upstream tools: version output", () => {
    const cases: [string, string, string][] = [
        ["istioctl", "client version: 1.30.3", "1.30.3"],
        ["etcd", "etcd Version: 3.6.16\nGit SHA: GitNotFound\nGo Version: go1.26.8", "3.6.16"],
        ["kube-apiserver", "Kubernetes v1.34.4", "1.34.4"],
        ["kubectl", "Client Version: v1.34.4\nKustomize Version: v5.7.1", "1.34.4"],
        ["pulumi", "v3.276.0", "3.276.0"],
    ];
    for (const [name, output, version] of cases) {
        it(`reads ${name}'s version from its version command`, () => {
            assert.equal(parseVersion(output, pin(name).versionPattern), version);
        });
    }
    it("refuses a plugin named by its variable that does not serve GetPluginInfo, in one line", () => {
        const dir = fakeBinaries({ "pulumi-resource-kubernetes": "not a plugin" });
        const binary = path.join(dir, "pulumi-resource-kubernetes");
        try {
            assert.throws(() => locate(pin("pulumi-resource-kubernetes"), {
                env: { AKS_ISTIO_MESH_PULUMI_RESOURCE_KUBERNETES: binary }, probe: (b, p) => probeVersion(b, p), onPath: () => [], cached: () => undefined,
            }), (e: Error) => e instanceof ConfigError && /does not run as a plugin answering GetPluginInfo/.test(e.message) && !e.message.includes("\n"));
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("does not take kubectl's Kustomize version for its own", () => {
        assert.equal(parseVersion("Kustomize Version: v5.7.1", pin("kubectl").versionPattern), undefined);
    });
});

describe("upstream tools: resolution order", () => {
    const etcd = pin("etcd");
    const lookup = (over: Partial<Lookup>): Lookup => ({
        env: {},
        probe: () => undefined,
        onPath: () => [],
        cached: () => undefined,
        ...over,
    });

    it("takes the binary the environment variable names first, at any patch of the pinned minor", () => {
        const found = locate(etcd, lookup({
            env: { AKS_ISTIO_MESH_ETCD: "/opt/etcd" },
            probe: (b) => (b === "/opt/etcd" ? "3.6.9" : "3.6.16"),
            onPath: () => ["/usr/bin/etcd"],
            cached: () => ({ path: "/cache/etcd", coldSeconds: 90 }),
        }));
        assert.deepEqual([found?.source, found?.path, found?.version], ["env", "/opt/etcd", "3.6.9"]);
    });

    it("refuses an environment variable naming another minor or something that does not run, naming the variable", () => {
        assert.throws(() => locate(etcd, lookup({ env: { AKS_ISTIO_MESH_ETCD: "/opt/etcd" }, probe: () => "3.4.23" })),
            (e: Error) => e instanceof ConfigError && /^AKS_ISTIO_MESH_ETCD: \/opt\/etcd is etcd 3\.4\.23; 3\.6\.16/.test(e.message));
        assert.throws(() => locate(etcd, lookup({ env: { AKS_ISTIO_MESH_ETCD: "/nope" } })),
            (e: Error) => e instanceof ConfigError && e.path === "AKS_ISTIO_MESH_ETCD");
    });

    it("skips PATH binaries of another version and takes the first at the pinned one", () => {
        const found = locate(etcd, lookup({
            onPath: () => ["/usr/bin/etcd", "/usr/local/bin/etcd"],
            probe: (b) => (b === "/usr/bin/etcd" ? "3.4.23" : "3.6.16"),
            cached: () => ({ path: "/cache/etcd", coldSeconds: 90 }),
        }));
        assert.deepEqual([found?.source, found?.path], ["path", "/usr/local/bin/etcd"]);
    });

    it("falls back to the cache, carrying the cold build's seconds, and finds nothing otherwise", () => {
        const found = locate(etcd, lookup({ onPath: () => ["/usr/bin/etcd"], probe: () => "3.4.23", cached: () => ({ path: "/cache/etcd", coldSeconds: 90 }) }));
        assert.deepEqual([found?.source, found?.coldSeconds], ["cache", 90]);
        assert.equal(locate(etcd, lookup({})), undefined);
    });

    it("keeps the cache under XDG_CACHE_HOME", () => {
        assert.equal(cacheRoot({ XDG_CACHE_HOME: "/x" }), path.join("/x", "aks-istio-mesh"));
        assert.equal(cacheRoot({ XDG_CACHE_HOME: "/x", AKS_ISTIO_MESH_CACHE: "/y" }), "/y");
    });

    it("resolves a real binary on PATH at the pinned version and builds nothing", async () => {
        const dir = fakeBinaries({ kwok: "kwok version v0.8.0 go1.26.8 (linux/amd64)" });
        const cache = fs.mkdtempSync(path.join(os.tmpdir(), "tools-cache-"));
        const t = await resolveTool("kwok", { build: false, env: { PATH: dir, AKS_ISTIO_MESH_CACHE: cache } });
        assert.deepEqual([t.source, t.path, t.version], ["path", path.join(dir, "kwok"), "0.8.0"]);
    });

    it("judges asm-1-29 with the stand-in istioctl 1.30.3 and says so, asm-1-30 with its own", async () => {
        const dir = fakeBinaries({ istioctl: "client version: 1.30.3" });
        const env = { PATH: dir, AKS_ISTIO_MESH_CACHE: fs.mkdtempSync(path.join(os.tmpdir(), "tools-cache-")) };
        const old = await istioctlForRevision("asm-1-29", { build: false, env });
        assert.deepEqual([old.version, old.revision, old.substituteFor], ["1.30.3", "asm-1-29", "1.29.6"]);
        const current = await istioctlForRevision("asm-1-30", { build: false, env });
        assert.deepEqual([current.version, current.substituteFor], ["1.30.3", undefined]);
    });

    it("reports a tool the proxy refuses as unavailable with its error and its stand-in", async () => {
        const cache = fs.mkdtempSync(path.join(os.tmpdir(), "tools-cache-"));
        await assert.rejects(resolveTool("istioctl", { version: "1.29.6", env: { PATH: "", AKS_ISTIO_MESH_CACHE: cache } }),
            (e: Error) => e instanceof ToolUnavailableError && /403 Forbidden/.test(e.tool.reason) && e.tool.substitute?.version === "1.30.3");
    });
});

describe("upstream tools: go failures", () => {
    it("tells an unreachable proxy from a refused module version and from a compile error", () => {
        assert.equal(classifyGoFailure("go: downloading x\ngo: x@v1: Get \"https://proxy.golang.org/x/@v/v1.zip\": dial tcp: lookup proxy.golang.org: no such host").kind, "proxy-unreachable");
        assert.equal(classifyGoFailure("reading https://proxy.golang.org/a/@v/v1.info: 403 Forbidden").kind, "refused");
        const compile = classifyGoFailure("go: downloading x\n# pkg\n./a.go:3:2: undefined: Foo\nrc=1");
        assert.deepEqual(compile, { kind: "failed", line: "./a.go:3:2: undefined: Foo" });
    });
});

describe("npm run tools", () => {
    it("refuses in one line with exit 2 when a tool must be built and Go is missing", () => {
        const cache = fs.mkdtempSync(path.join(os.tmpdir(), "tools-cache-"));
        const r = runFrontDoor("tools.ts", ["kwok"], { PATH: path.dirname(process.execPath), AKS_ISTIO_MESH_CACHE: cache, HOME: os.tmpdir() });
        assert.equal(r.status, 2, r.stderr);
        assert.match(r.stderr, /^error: go: not found on PATH; it is needed to build kwok/);
        assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    });

    it("prints --json with each tool's source and the unavailable ones apart, building nothing with --no-build", () => {
        const dir = fakeBinaries({ kwok: "kwok version v0.8.0" });
        const cache = fs.mkdtempSync(path.join(os.tmpdir(), "tools-cache-"));
        const r = runFrontDoor("tools.ts", ["--json", "--no-build", "kwok", "pulumi-language-nodejs"], { PATH: `${dir}${path.delimiter}${path.dirname(process.execPath)}`, AKS_ISTIO_MESH_CACHE: cache });
        assert.equal(r.status, 0, r.stderr);
        const out = JSON.parse(r.stdout) as { tools: { name: string; source: string }[]; unavailable: { name: string; reason: string }[] };
        assert.deepEqual(out.tools.map((t) => [t.name, t.source]), [["kwok", "path"]]);
        assert.deepEqual(out.unavailable.map((u) => u.name), ["pulumi-language-nodejs"]);
        assert.ok(!fs.existsSync(path.join(cache, "src")), "nothing was built");
    });
});
