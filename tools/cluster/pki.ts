/**
 * Certificates of the local control plane, made with the machine's openssl: one CA, the API server's serving
 * certificate (127.0.0.1 and the in-cluster names), client certificates for the admin and each component,
 * and the service-account signing key pair. ECDSA P-256 throughout: generating them takes milliseconds.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ConfigError } from "../../policy-pack/lib/errors";

/** A client identity: the certificate's CN is the user, O the group (RBAC reads both). */
export interface ClientIdentity {
    readonly file: string;
    readonly user: string;
    readonly group?: string;
}

/** Admin in system:masters; the components under the users their default RBAC roles bind. */
export const CLIENTS: readonly ClientIdentity[] = [
    { file: "admin", user: "admin", group: "system:masters" },
    { file: "kube-controller-manager", user: "system:kube-controller-manager" },
    { file: "kube-scheduler", user: "system:kube-scheduler" },
    // kwok updates node and pod status for every node it fakes, which the node authorizer would refuse.
    { file: "kwok", user: "kwok", group: "system:masters" },
];

/** The API server's serving names: loopback and the `kubernetes` Service's names and cluster IP. */
export const SERVING_SANS = [
    "IP:127.0.0.1", "IP:10.0.0.1", "DNS:localhost", "DNS:kubernetes", "DNS:kubernetes.default",
    "DNS:kubernetes.default.svc", "DNS:kubernetes.default.svc.cluster.local",
];

function openssl(args: string[], cwd: string): void {
    const r = spawnSync("openssl", args, { cwd, encoding: "utf8" });
    if (r.error) throw new ConfigError("openssl", "not found on PATH; the local cluster's certificates are made with it (install openssl)");
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${(r.stderr || "").trim().split("\n")[0]}`);
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

function signed(dir: string, name: string, subject: string, extensions: string): void {
    fs.writeFileSync(path.join(dir, `${name}.ext`), extensions);
    openssl(["req", "-new", ...EC, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject], dir);
    openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "30", "-out", `${name}.crt`, "-extfile", `${name}.ext`], dir);
}

/** Writes the whole PKI into `dir` (created); returns `dir`. */
export function generatePki(dir: string): string {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    openssl(["req", "-x509", "-new", ...EC, "-keyout", "ca.key", "-out", "ca.crt", "-days", "30", "-subj", "/CN=aks-istio-mesh-local-ca"], dir);
    signed(dir, "apiserver", "/CN=kube-apiserver", `subjectAltName=${SERVING_SANS.join(",")}\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n`);
    for (const c of CLIENTS) {
        signed(dir, c.file, `${c.group ? `/O=${c.group}` : ""}/CN=${c.user}`, "extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n");
    }
    openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "sa.key"], dir);
    openssl(["ec", "-in", "sa.key", "-pubout", "-out", "sa.pub"], dir);
    return dir;
}

/** A kubeconfig for one client identity of the PKI in `pki`. */
export function kubeconfig(pki: string, server: string, client: string): string {
    const abs = (f: string) => path.join(pki, f);
    return [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "- name: local",
        "  cluster:",
        `    server: ${server}`,
        `    certificate-authority: ${abs("ca.crt")}`,
        "users:",
        `- name: ${client}`,
        "  user:",
        `    client-certificate: ${abs(`${client}.crt`)}`,
        `    client-key: ${abs(`${client}.key`)}`,
        "contexts:",
        "- name: aks-istio-mesh-local",
        "  context:",
        "    cluster: local",
        `    user: ${client}`,
        "current-context: aks-istio-mesh-local",
        "",
    ].join("\n");
}
