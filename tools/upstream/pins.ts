/**
 * The upstream tools the real-peer tier uses, each pinned to one version, and how each is built from its Go
 * module when no installed copy is found. Facts only: module paths, versions, main packages, link flags.
 * Wrapper go.mod files are generated from these into the cache (see build.ts), never into the repository.
 */

/** One `replace` line of a generated wrapper go.mod. */
export interface Replace {
    readonly from: string;
    readonly to: string;
    readonly version: string;
}

/** How to build one or more binaries from a published Go module through a generated wrapper module. */
export interface BuildRecipe {
    /** Cache key of the wrapper module and its log, `<unit>-<version>` (shared by the tools it builds). */
    readonly unit: string;
    /** The module required by the wrapper. */
    readonly module: string;
    /** Its version on the module proxy (a tag or a pseudo-version). */
    readonly moduleVersion: string;
    /** Further modules required at a fixed version (e.g. the SDK beside the CLI). */
    readonly require?: readonly { module: string; version: string }[];
    /** Binary name → main package path. */
    readonly packages: Readonly<Record<string, string>>;
    /** Replaces written into the wrapper. */
    readonly replaces?: readonly Replace[];
    /**
     * Builds replaces from the required module's own go.mod: Kubernetes replaces its ~31 staging modules with
     * relative paths, which a wrapper maps to the published `k8s.io/<name>` at the matching v0 version.
     */
    readonly replacesFromGoMod?: (goMod: string) => Replace[];
    readonly tags?: readonly string[];
    readonly ldflags?: readonly string[];
    /** Profile-guided optimisation off: Kubernetes' default.pgo makes a cold compile much slower. */
    readonly pgoOff?: boolean;
    /** Free disk needed for module and build caches on a cold build, in GB (a refusal threshold). */
    readonly diskGb: number;
    /** Why the build deviates from the upstream release, when it does; shown in docs and --json. */
    readonly note?: string;
    /**
     * Build inside a writable copy of the module itself instead of a wrapper: for a module whose main package
     * embeds files its own generator writes (the zip on the proxy lacks them). `packages` are then relative.
     */
    readonly inModule?: {
        /** Replaces set with `go mod edit` in the copy (a relative path to a sibling module → its published version). */
        readonly replaces: readonly Replace[];
        /** A `go run` step before the build: its directory in the module, arguments and environment. */
        readonly generate?: { readonly dir: string; readonly args: readonly string[]; readonly env: Readonly<Record<string, string>> };
    };
}

/** One pinned tool. */
export interface ToolPin {
    /** Tool name as users call it (`istioctl`, `kube-apiserver`). */
    readonly name: string;
    /** Pinned version, without a leading `v`. */
    readonly version: string;
    /** Environment variable naming a binary to use instead of searching. */
    readonly envVar: string;
    /** Arguments that make the binary print its version, and the pattern that captures it. */
    readonly versionArgs: readonly string[];
    readonly versionPattern: RegExp;
    /**
     * A Pulumi plugin has no version flag: it reports its version only over gRPC (GetPluginInfo), so the
     * version is read by starting it and asking, instead of running `versionArgs`.
     */
    readonly versionOverGrpc?: boolean;
    /** The AKS revision this tool judges (istioctl only). */
    readonly revision?: string;
    /** How to build it; absent when it cannot be built here (see `unavailable`). */
    readonly build?: BuildRecipe;
    /** Why no build is possible on this machine's module proxy (the exact error), when so. */
    readonly unavailable?: string;
    /** Another pin's version that stands in when this one is unavailable, and why that is acceptable. */
    readonly substitute?: { readonly version: string; readonly reason: string };
}

/**
 * The Kubernetes provider plugin the real-engine tier runs: the newest release the module proxy serves, not the
 * 4.34.2 the SDK in package.json asks for (docs/real-peers.md names what differs).
 */
export const KUBERNETES_PROVIDER_VERSION = "4.25.0";

/** Kubernetes minor of the stacks (Pulumi.<stack>.yaml kubernetesVersion 1.34) and its patch. */
export const KUBERNETES_VERSION = "1.34.4";

/**
 * `k8s.io/foo => ./staging/src/k8s.io/foo` → `k8s.io/foo => k8s.io/foo v0.<minor>.<patch>`, for the staging
 * modules the go.mod requires: some it only replaces (sample-controller) are not even served at that version.
 */
export function stagingReplaces(goMod: string, kubernetesVersion: string): Replace[] {
    const v0 = `v0.${kubernetesVersion.split(".").slice(1).join(".")}`;
    const required = new Set([...goMod.matchAll(/^\s*(k8s\.io\/[\w.-]+)\s+v0\.0\.0\b/gm)].map((m) => m[1]));
    const out: Replace[] = [];
    for (const m of goMod.matchAll(/^\s*(k8s\.io\/[\w.-]+)\s+=>\s+\.\/staging\/src\/k8s\.io\/[\w.-]+\s*$/gm)) {
        if (required.has(m[1])) out.push({ from: m[1], to: m[1], version: v0 });
    }
    return out;
}

const kubeLdflags = (version: string): string[] => {
    const [major, minor] = version.split(".");
    return ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"].flatMap((pkg) => [
        `-X ${pkg}.gitVersion=v${version}`,
        `-X ${pkg}.gitMajor=${major}`,
        `-X ${pkg}.gitMinor=${minor}`,
        `-X ${pkg}.gitTreeState=clean`,
    ]);
};

const KUBE_BUILD: BuildRecipe = {
    unit: `kubernetes-${KUBERNETES_VERSION}`,
    module: "k8s.io/kubernetes",
    moduleVersion: `v${KUBERNETES_VERSION}`,
    packages: {
        "kube-apiserver": "k8s.io/kubernetes/cmd/kube-apiserver",
        "kube-controller-manager": "k8s.io/kubernetes/cmd/kube-controller-manager",
        "kube-scheduler": "k8s.io/kubernetes/cmd/kube-scheduler",
        kubectl: "k8s.io/kubernetes/cmd/kubectl",
    },
    replacesFromGoMod: (goMod) => stagingReplaces(goMod, KUBERNETES_VERSION),
    ldflags: kubeLdflags(KUBERNETES_VERSION),
    pgoOff: true,
    diskGb: 4,
};

const ISTIO_BUILD_1_30: BuildRecipe = {
    unit: "istioctl-1.30.3",
    module: "istio.io/istio",
    // The release-1.30 branch commit the proxy serves; its crd-all.gen.yaml has the 1.30.3 bundle's SHA-256.
    moduleVersion: "v0.0.0-20260826214018-9739e10eb9d7",
    packages: { istioctl: "istio.io/istio/istioctl/cmd/istioctl" },
    // The commit's go.mod asks for pre-release pseudo-versions of these that the proxy refuses (403); the
    // nearest served versions of the same lines stand in.
    replaces: [
        { from: "istio.io/api", to: "istio.io/api", version: "v1.30.8" },
        { from: "istio.io/client-go", to: "istio.io/client-go", version: "v1.30.8" },
        { from: "github.com/envoyproxy/go-control-plane/envoy", to: "github.com/envoyproxy/go-control-plane/envoy", version: "v1.38.0" },
        {
            from: "github.com/envoyproxy/go-control-plane/contrib",
            to: "github.com/envoyproxy/go-control-plane/contrib",
            version: "v1.36.1-0.20260713214202-ca8ce173c36f",
        },
    ],
    tags: ["vtprotobuf", "disable_pgv"],
    ldflags: ["-X istio.io/istio/pkg/version.buildVersion=1.30.3"],
    diskGb: 4,
    note: "istio.io/api and istio.io/client-go v1.30.8 and go-control-plane envoy v1.38.0 replace the refused "
        + "pre-release pseudo-versions the release-1.30 commit names",
};

const PROXY_403 = "403 Forbidden\n\tserver response: This module version is not available.";

export const PINS: readonly ToolPin[] = [
    {
        name: "istioctl",
        version: "1.29.6",
        revision: "asm-1-29",
        envVar: "AKS_ISTIO_MESH_ISTIOCTL_1_29",
        versionArgs: ["version", "--remote=false"],
        versionPattern: /(\d+\.\d+\.\d+)/,
        unavailable: "istio.io/istio@v0.0.0-20260713140233-7019d6d3608e: reading "
            + `https://proxy.golang.org/istio.io/istio/@v/v0.0.0-20260713140233-7019d6d3608e.info: ${PROXY_403}`
            + " (no release-1.29 commit of istio.io/istio is served)",
        substitute: {
            version: "1.30.3",
            reason: "istioctl supports one minor of version skew; 1.30's validation and analyzers judge asm-1-29 objects "
                + "(the same API groups and versions), so only 1.30-only fields could slip through",
        },
    },
    {
        name: "istioctl",
        version: "1.30.3",
        revision: "asm-1-30",
        envVar: "AKS_ISTIO_MESH_ISTIOCTL_1_30",
        versionArgs: ["version", "--remote=false"],
        versionPattern: /(\d+\.\d+\.\d+)/,
        build: ISTIO_BUILD_1_30,
    },
    {
        name: "etcd",
        version: "3.6.16",
        envVar: "AKS_ISTIO_MESH_ETCD",
        versionArgs: ["--version"],
        versionPattern: /etcd Version:\s*(\d+\.\d+\.\d+)/,
        build: {
            unit: "etcd-3.6.16",
            module: "go.etcd.io/etcd/server/v3",
            moduleVersion: "v3.6.16",
            packages: { etcd: "go.etcd.io/etcd/server/v3" },
            diskGb: 2,
        },
    },
    ...(["kube-apiserver", "kube-controller-manager", "kube-scheduler"] as const).map((name): ToolPin => ({
        name,
        version: KUBERNETES_VERSION,
        envVar: `AKS_ISTIO_MESH_${name.toUpperCase().replace(/-/g, "_")}`,
        versionArgs: ["--version"],
        versionPattern: /Kubernetes v(\d+\.\d+\.\d+)/,
        build: KUBE_BUILD,
    })),
    {
        name: "kubectl",
        version: KUBERNETES_VERSION,
        envVar: "AKS_ISTIO_MESH_KUBECTL",
        versionArgs: ["version", "--client"],
        versionPattern: /Client Version: v(\d+\.\d+\.\d+)/,
        build: KUBE_BUILD,
    },
    {
        name: "kwok",
        version: "0.8.0",
        envVar: "AKS_ISTIO_MESH_KWOK",
        versionArgs: ["--version"],
        versionPattern: /v?(\d+\.\d+\.\d+)/,
        build: {
            unit: "kwok-0.8.0",
            module: "sigs.k8s.io/kwok",
            moduleVersion: "v0.8.0",
            packages: { kwok: "sigs.k8s.io/kwok/cmd/kwok" },
            ldflags: ["-X sigs.k8s.io/kwok/pkg/consts.Version=v0.8.0"],
            diskGb: 2,
        },
    },
    {
        name: "pulumi",
        version: "3.276.0",
        envVar: "AKS_ISTIO_MESH_PULUMI",
        versionArgs: ["version"],
        versionPattern: /v(\d+\.\d+\.\d+)/,
        build: {
            unit: "pulumi-3.276.0",
            module: "github.com/pulumi/pulumi/pkg/v3",
            moduleVersion: "v3.276.0",
            require: [{ module: "github.com/pulumi/pulumi/sdk/v3", version: "v3.276.0" }],
            packages: { pulumi: "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi" },
            replaces: [{ from: "github.com/atotto/clipboard", to: "github.com/tgummerer/clipboard", version: "v0.0.0-20241001131231-d02d263e614e" }],
            ldflags: ["-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v3.276.0"],
            diskGb: 4,
        },
    },
    {
        name: "pulumi-language-nodejs",
        version: "3.276.0",
        envVar: "AKS_ISTIO_MESH_PULUMI_LANGUAGE_NODEJS",
        versionArgs: ["-version"],
        versionPattern: /(\d+\.\d+\.\d+)/,
        unavailable: "go: module github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3: reading "
            + `https://proxy.golang.org/github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3/@v/list: ${PROXY_403}`
            + " (v3.276.0 and commit queries answer the same 403)",
    },
    {
        name: "pulumi-resource-kubernetes",
        version: KUBERNETES_PROVIDER_VERSION,
        envVar: "AKS_ISTIO_MESH_PULUMI_RESOURCE_KUBERNETES",
        versionArgs: [],
        versionPattern: /(\d+\.\d+\.\d+)/,
        versionOverGrpc: true,
        build: {
            unit: `pulumi-resource-kubernetes-${KUBERNETES_PROVIDER_VERSION}`,
            module: "github.com/pulumi/pulumi-kubernetes/provider/v4",
            // The one provider/v4 version the proxy serves: the commit tagged v4.25.0 (2026-01-14).
            moduleVersion: "v4.0.0-20260115033456-f47bc2d6f199",
            packages: { "pulumi-resource-kubernetes": "./cmd/pulumi-resource-kubernetes" },
            inModule: {
                // go.mod points the SDK at ../sdk (the monorepo); its v4.25.0 release is served and differs only in version stamps.
                replaces: [{ from: "github.com/pulumi/pulumi-kubernetes/sdk/v4", to: "github.com/pulumi/pulumi-kubernetes/sdk/v4", version: "v4.25.0" }],
                // The release build's step that writes the embedded schema and Terraform mapping from the checked-in JSON.
                generate: { dir: "cmd/pulumi-resource-kubernetes", args: ["generate.go"], env: { VERSION: KUBERNETES_PROVIDER_VERSION } },
            },
            ldflags: [`-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=${KUBERNETES_PROVIDER_VERSION}`],
            diskGb: 4,
            note: "@pulumi/kubernetes 4.34.2 asks for plugin 4.34.2, which the proxy does not serve (github.com/pulumi/pulumi-kubernetes"
                + `@v4.34.2+incompatible: 403); ${KUBERNETES_PROVIDER_VERSION}, the newest release it serves, runs as an ambient plugin`,
        },
    },
    {
        name: "pulumi-resource-random",
        version: "4.21.2",
        envVar: "AKS_ISTIO_MESH_PULUMI_RESOURCE_RANDOM",
        versionArgs: ["-version"],
        versionPattern: /(\d+\.\d+\.\d+)/,
        unavailable: "github.com/pulumi/pulumi-random/provider/v4@v4.21.2: reading "
            + `https://proxy.golang.org/github.com/pulumi/pulumi-random/provider/v4/@v/v4.21.2.info: ${PROXY_403}`,
    },
];

/** The pin for a name at a version; without a version, the newest pin of that name (istioctl has one per revision). */
export function findPin(name: string, version?: string): ToolPin | undefined {
    const named = PINS.filter((p) => p.name === name && (version === undefined || p.version === version));
    return named.sort((a, b) => compareVersions(b.version, a.version))[0];
}

/** Numeric comparison of dotted versions (`1.30.3` > `1.29.10`). */
export function compareVersions(a: string, b: string): number {
    const pa = a.split(".").map(Number);
    const pb = b.split(".").map(Number);
    for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
        const d = (pa[i] ?? 0) - (pb[i] ?? 0);
        if (d !== 0) return d;
    }
    return 0;
}
