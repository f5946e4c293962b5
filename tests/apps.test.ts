import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { CATALOG } from "../components/apps/catalog";
import { parseAppSpec } from "../config/apps";
import { FILES_ANNOTATION, REVISION_ANNOTATION } from "../components/app";
import { REDACTED } from "../tools/offline/runtime";
import { configValues, kubeObjects, parseStackConfig, runsKiali, stackConfig, stackRun, STACKS, variantRun } from "./helpers";

const APPS = "aks-istio-mesh:apps";

/** A small app of a user's own, as it would be written inline in stack config. */
const hello = {
    name: "hello",
    services: [
        { name: "web", image: "docker.io/nginxinc/nginx-unprivileged:1.27.3", ports: [{ port: 8080, protocol: "http" }],
            resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } } },
        { name: "api", image: "ghcr.io/example/api@sha256:" + "a".repeat(64), ports: [{ port: 9000, protocol: "grpc" }],
            resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } } },
    ],
    calls: [{ from: "web", to: "api", port: 9000 }],
    ingress: [{ service: "web", port: 8080, paths: [{ match: "prefix", path: "/" }] }],
};

function podSpecs(run: Awaited<ReturnType<typeof stackRun>>) {
    return [...kubeObjects(run, "Deployment"), ...kubeObjects(run, "StatefulSet")];
}

/** Objects in app namespaces (prod also runs the ingress TLS sync pod in aks-istio-ingress; Kiali has its own namespace). */
const inApps = (o: Record<string, any>) => !["aks-istio-ingress", "kiali"].includes(o.metadata.namespace);

describe("apps as data", () => {
    for (const stack of STACKS) {
        describe(`${stack} stack`, () => {
            it("labels each app namespace with the revision, never istio-injection", async () => {
                const nss = kubeObjects(await stackRun(stack), "Namespace");
                assert.deepStrictEqual(nss.map((n) => n.metadata.name).sort(), ["bookinfo", ...(runsKiali(stack) ? ["kiali"] : []), "pets"]);
                for (const n of nss) {
                    assert.strictEqual(n.metadata.labels["istio.io/rev"], "asm-1-30");
                    assert.ok(!("istio-injection" in n.metadata.labels));
                }
            });

            it("creates namespaces before anything in them", async () => {
                const run = await stackRun(stack);
                const nsUrn = new Map(run.resources.filter((r) => r.inputs.kind === "Namespace").map((r) => [(r.inputs as any).metadata.name, r.urn]));
                for (const r of run.resources.filter((x) => (x.inputs as any).metadata?.namespace && nsUrn.has((x.inputs as any).metadata.namespace))) {
                    assert.ok(r.dependencies.includes(nsUrn.get((r.inputs as any).metadata.namespace)!), `${r.name} does not wait for its namespace`);
                }
            });

            it("creates every workload, Service and ServiceAccount of pets and bookinfo", async () => {
                const run = await stackRun(stack);
                const names = (kind: string) => kubeObjects(run, kind).filter(inApps).map((o) => `${o.metadata.namespace}/${o.metadata.name}`).sort();
                assert.deepStrictEqual(names("Deployment"), [
                    "bookinfo/details-v1", "bookinfo/productpage-v1", "bookinfo/ratings-v1", "bookinfo/reviews-v1", "bookinfo/reviews-v2", "bookinfo/reviews-v3",
                    "pets/order-service-v1", "pets/product-service-v1", "pets/store-front-v1",
                ]);
                assert.deepStrictEqual(names("StatefulSet"), ["pets/rabbitmq"]);
                assert.deepStrictEqual(names("Service"), ["bookinfo/details", "bookinfo/productpage", "bookinfo/ratings", "bookinfo/reviews", "pets/order-service", "pets/product-service", "pets/rabbitmq", "pets/rabbitmq-headless", "pets/store-front"]);
                const rabbit = kubeObjects(run, "StatefulSet")[0];
                const governing = kubeObjects(run, "Service").find((x) => x.metadata.namespace === "pets" && x.metadata.name === rabbit.spec.serviceName)!;
                assert.strictEqual(governing.spec.clusterIP, "None", "a StatefulSet's governing Service must be headless");
                assert.deepStrictEqual(names("ServiceAccount"), [
                    "bookinfo/bookinfo-details", "bookinfo/bookinfo-productpage", "bookinfo/bookinfo-ratings", "bookinfo/bookinfo-reviews",
                    "pets/order-service", "pets/product-service", "pets/rabbitmq", "pets/store-front",
                ]);
                const reviews = kubeObjects(run, "Deployment").filter((d) => d.metadata.name.startsWith("reviews-"));
                assert.deepStrictEqual(reviews.map((d) => d.spec.template.metadata.labels), [1, 2, 3].map((v) => ({ app: "reviews", version: `v${v}` })));
                assert.deepStrictEqual(reviews.map((d) => d.spec.template.spec.containers[0].image), [1, 2, 3].map((v) => `docker.io/istio/examples-bookinfo-reviews-v${v}:1.20.3`));
            });

            it("names every Service port by Istio's convention and exposes no LoadBalancer", async () => {
                for (const s of kubeObjects(await stackRun(stack), "Service")) {
                    assert.strictEqual(s.spec.type, "ClusterIP", `${s.metadata.name} is ${s.spec.type}`);
                    for (const p of s.spec.ports) {
                        assert.match(p.name, /^(http|http2|https|grpc|tcp|tls|mongo|redis|mysql)(-[a-z0-9-]+)?$/, `${s.metadata.name} port ${p.port}`);
                    }
                }
            });

            it("pins every image and sets requests and limits on every container", async () => {
                for (const w of podSpecs(await stackRun(stack))) {
                    for (const c of [...w.spec.template.spec.containers, ...(w.spec.template.spec.initContainers ?? [])]) {
                        assert.match(c.image, /(:[\w][\w.-]*|@sha256:[a-f0-9]{64})$/, `${w.metadata.name}/${c.name} image not pinned`);
                        assert.doesNotMatch(c.image, /:latest$/);
                        assert.ok(c.resources.requests.cpu && c.resources.requests.memory, `${w.metadata.name}/${c.name} has no requests`);
                        assert.ok(c.resources.limits.cpu && c.resources.limits.memory, `${w.metadata.name}/${c.name} has no limits`);
                    }
                }
            });

            it("keeps credentials out of plain text: generated (or from the stack's encrypted config), in a Secret, read by reference", async () => {
                const run = await stackRun(stack);
                const secret = kubeObjects(run, "Secret").find((s) => s.metadata.name === "rabbitmq-credentials")!;
                // The literal username hidden too: the whole map is a Pulumi secret; its keys stay, as pods read them.
                assert.deepStrictEqual(secret.stringData, { username: REDACTED, password: REDACTED }, "the Secret's data must be a Pulumi secret");
                // Generated, except where the stack brings its own (the local stack: aks-istio-mesh:secrets.source config).
                const generated = run.resources.some((r) => r.type === "random:index/randomPassword:RandomPassword");
                assert.strictEqual(generated, stackConfig(stack).secrets.source === "generated", `${stack}: passwords generated only when the stack does not bring them`);
                const secretUrn = run.resources.find((r) => r.inputs.kind === "Secret" && (r.inputs as any).metadata.name === "rabbitmq-credentials")!.urn;
                const readers = run.resources.filter((r) => ["Deployment", "StatefulSet"].includes(String(r.inputs.kind)) && ["order-service-v1", "rabbitmq"].includes((r.inputs as any).metadata.name));
                assert.strictEqual(readers.length, 2);
                for (const reader of readers) {
                    assert.ok(reader.dependencies.includes(secretUrn), `${reader.name} may start before the Secret it reads exists`);
                }
                for (const w of podSpecs(run)) {
                    for (const e of w.spec.template.spec.containers[0].env ?? []) {
                        assert.ok(!(/PASS|USER/.test(e.name) && e.value !== undefined), `${w.metadata.name} has ${e.name} in plain text`);
                    }
                }
            });

            it("stamps the namespace revision into every pod template so a move rolls the pods", async () => {
                for (const w of podSpecs(await stackRun(stack)).filter(inApps)) {
                    assert.strictEqual(w.spec.template.metadata.annotations[REVISION_ANNOTATION], "asm-1-30");
                }
            });

            it("waits for RabbitMQ through the mesh, not around it", async () => {
                const order = kubeObjects(await stackRun(stack), "Deployment").find((d) => d.metadata.name === "order-service-v1")!;
                const init = order.spec.template.spec.initContainers[0];
                assert.strictEqual(init.name, "wait-for-rabbitmq");
                assert.match(init.command.join(" "), /nc -w 5 rabbitmq 5672 \| grep -q AMQP/);
                assert.strictEqual(init.securityContext.runAsUser, undefined, "no UID 1337 bypass");
                assert.strictEqual(order.spec.template.metadata.annotations["traffic.sidecar.istio.io/excludeOutboundPorts"], undefined);
            });

            it("lets order-service's bare queue name (AMQP address v1) through RabbitMQ 4.3", async () => {
                const run = await stackRun(stack);
                const order = kubeObjects(run, "Deployment").find((d) => d.metadata.name === "order-service-v1")!;
                const queue = order.spec.template.spec.containers[0].env.find((e: any) => e.name === "ORDER_QUEUE_NAME").value;
                assert.ok(!queue.startsWith("/queues/"), "order-service uses address format v1");
                const broker = kubeObjects(run, "StatefulSet").find((s) => s.metadata.name === "rabbitmq")!;
                const pod = broker.spec.template;
                assert.match(pod.spec.containers[0].image, /^rabbitmq:4\./, "a broker that denies v1 addresses unless told otherwise");

                // The broker reads every /etc/rabbitmq/conf.d/*.conf; follow the mount to the ConfigMap.
                const mounts = pod.spec.containers[0].volumeMounts.filter((m: any) => /^\/etc\/rabbitmq\/conf\.d\/[^/]+\.conf$/.test(m.mountPath));
                assert.strictEqual(mounts.length, 1);
                assert.strictEqual(mounts[0].readOnly, true);
                const volume = pod.spec.volumes.find((v: any) => v.name === mounts[0].name);
                const cm = kubeObjects(run, "ConfigMap").find((c) => c.metadata.namespace === "pets" && c.metadata.name === volume.configMap.name)!;
                const settings = Object.fromEntries(String(cm.data[mounts[0].subPath]).split("\n")
                    .filter((l) => l.trim() && !l.trim().startsWith("#")).map((l) => l.split("=").map((x) => x.trim())));
                assert.strictEqual(settings["deprecated_features.permit.amqp_address_v1"], "true");
                assert.match(pod.metadata.annotations[FILES_ANNOTATION], /^[0-9a-f]{64}$/, "a config change restarts the broker");
            });
        });
    }

    it("runs every app Deployment with 2+ replicas, a PDB and zone spread in prod only; StatefulSets as declared", async () => {
        const prod = await stackRun("prod");
        const dev = await stackRun("dev");
        const apps = (run: Awaited<ReturnType<typeof stackRun>>, kind: string) => kubeObjects(run, kind).filter((o) => ["pets", "bookinfo"].includes(o.metadata.namespace));
        for (const p of apps(prod, "Deployment")) {
            assert.ok(p.spec.replicas >= 2, `${p.metadata.name} has ${p.spec.replicas} replicas`);
            assert.strictEqual(p.spec.template.spec.topologySpreadConstraints[0].topologyKey, "topology.kubernetes.io/zone");
        }
        for (const d of apps(dev, "Deployment")) {
            assert.strictEqual(d.spec.replicas, 1);
            assert.strictEqual(d.spec.template.spec.topologySpreadConstraints, undefined);
        }
        assert.strictEqual(apps(prod, "StatefulSet")[0].spec.replicas, 1, "a single RabbitMQ broker is not made a split brain");
        assert.deepStrictEqual(apps(prod, "PodDisruptionBudget").map((p) => `${p.metadata.namespace}/${p.metadata.name}`).sort(), [
            "bookinfo/details", "bookinfo/productpage", "bookinfo/ratings", "bookinfo/reviews", "pets/order-service", "pets/product-service", "pets/store-front",
        ]);
        assert.deepStrictEqual(apps(dev, "PodDisruptionBudget"), []);
    });

    it("lets one namespace stay on the old revision during a canary upgrade", async () => {
        const run = await variantRun("dev", (v) => {
            v["aks-istio-mesh:mesh"].revisions = ["asm-1-29", "asm-1-30"];
            v[APPS] = [{ name: "pets", revision: "asm-1-29" }, "bookinfo"];
        });
        const label = (ns: string) => kubeObjects(run, "Namespace").find((n) => n.metadata.name === ns)!.metadata.labels["istio.io/rev"];
        assert.strictEqual(label("pets"), "asm-1-29");
        assert.strictEqual(label("bookinfo"), "asm-1-30", "the default is the newest revision");
        for (const w of podSpecs(run)) {
            assert.strictEqual(w.spec.template.metadata.annotations[REVISION_ANNOTATION], label(w.metadata.namespace));
        }
    });

    it("deploys an app of the user's own from stack config: one spec in, the right objects out", async () => {
        const run = await variantRun("dev", (v) => { v[APPS] = [{ name: "hello", spec: hello }]; v["aks-istio-mesh:ingress"] = { hosts: {} }; });
        const own = (kind: string) => kubeObjects(run, kind).filter(inApps);
        assert.deepStrictEqual(kubeObjects(run, "Namespace").filter((n) => n.metadata.name !== "kiali").map((n) => [n.metadata.name, n.metadata.labels["istio.io/rev"]]), [["hello", "asm-1-30"]]);
        assert.deepStrictEqual(own("Deployment").map((d) => d.metadata.name).sort(), ["api-v1", "web-v1"]);
        assert.deepStrictEqual(own("ServiceAccount").map((d) => d.metadata.name).sort(), ["api", "web"]);
        assert.deepStrictEqual(kubeObjects(run, "Service").find((s) => s.metadata.name === "api")!.spec.ports, [{ name: "grpc", port: 9000, targetPort: 9000, protocol: "TCP" }]);
        const web = kubeObjects(run, "Deployment").find((d) => d.metadata.name === "web-v1")!;
        assert.strictEqual(web.spec.template.spec.serviceAccountName, "web");
        assert.deepStrictEqual(web.spec.selector.matchLabels, { app: "web", version: "v1" });
    });

    it("validates the built-in catalog like any spec", () => {
        for (const spec of Object.values(CATALOG)) {
            assert.deepStrictEqual(parseAppSpec(JSON.parse(JSON.stringify(spec)), "catalog").services.map((s) => s.name), spec.services.map((s) => s.name));
        }
    });

    describe("refuses an invalid spec with a clear message", () => {
        const cases: [string, (s: any) => void, RegExp][] = [
            ["duplicate service", (s) => s.services.push({ ...s.services[0] }), /spec\.services: duplicate service "web"/],
            ["call to an unknown service", (s) => { s.calls[0].to = "db"; }, /spec\.calls\[0\]\.to: "db" is not a service of hello; services: web, api/],
            ["call to a port the service lacks", (s) => { s.calls[0].port = 9001; }, /spec\.calls\[0\]\.port: api has no port 9001/],
            ["bad image reference", (s) => { s.services[0].image = "nginx"; }, /spec\.services\[0\]\.image: "nginx" is not an image reference with a pinned tag or digest/],
            ["moving tag", (s) => { s.services[0].image = "nginx:latest"; }, /moving tag "latest"/],
            ["port without a protocol", (s) => { delete s.services[1].ports[0].protocol; }, /spec\.services\[1\]\.ports\[0\]\.protocol: is required so Istio knows the protocol/],
            ["unknown protocol", (s) => { s.services[1].ports[0].protocol = "amqp"; }, /protocol: "amqp" is not allowed; allowed: http, http2/],
            ["container without resources", (s) => { delete s.services[0].resources; }, /spec\.services\[0\]\.resources: must be an object/],
            ["secret reference to an undeclared key", (s) => { s.services[0].secretEnv = { PASSWORD: { secret: "db", key: "password" } }; }, /refers to db\.password, which is not a key of a secret the app declares/],
            ["unknown field", (s) => { s.services[0].replica = 2; }, /spec\.services\[0\]\.replica: unknown key/],
            ["a mounted file on a relative path", (s) => { s.services[0].files = { "etc/app.conf": "x" }; }, /spec\.services\[0\]\.files\.etc\/app\.conf: must be an absolute file path/],
            ["two mounted files with one name", (s) => { s.services[0].files = { "/a/app.conf": "x", "/b/app.conf": "y" }; }, /spec\.services\[0\]\.files: duplicate file name "app\.conf"/],
            ["two services sharing a ServiceAccount", (s) => { s.services[0].serviceAccount = "shared"; s.services[1].serviceAccount = "shared"; }, /spec\.services: duplicate serviceAccount "shared"/],
            ["a service named like the allow-nothing policy", (s) => { s.services[1].name = "nothing"; s.calls = []; }, /spec\.services\[1\]\.name: "nothing" is reserved/],
        ];
        for (const [what, edit, message] of cases) {
            it(what, () => {
                const spec = structuredClone(hello);
                edit(spec);
                const values = configValues("dev", (v) => { v[APPS] = [{ name: "hello", spec }]; });
                assert.throws(() => parseStackConfig("dev", values), (e: Error) => {
                    assert.ok(pulumi.RunError.isInstance(e));
                    assert.match(e.message, /^aks-istio-mesh:apps\[0\]/);
                    assert.match(e.message, message);
                    return true;
                });
            });
        }

        it("a namespace revision the mesh does not run", () => {
            const values = configValues("dev", (v) => { v[APPS] = [{ name: "pets", revision: "asm-1-29" }]; });
            assert.throws(() => parseStackConfig("dev", values), /aks-istio-mesh:apps\[0\]\.revision: "asm-1-29" is not allowed; allowed: asm-1-30/);
        });
    });
});
