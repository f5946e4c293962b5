/**
 * Downloads the Istio CRD bundles the offline schema check reads, for machines without the
 * `shared/schemas` directory beside the repository (a GitHub runner, a fresh clone):
 *
 *   npm run schemas:fetch        (also run before npm test; the offline preview fetches what it lacks)
 *
 * Which Istio patch each revision uses and the SHA-256 its crd-all.gen.yaml must have come from the
 * revision table (policy-pack/lib/revisions.ts). Bundles already present with that checksum, wherever
 * the tools find them, are not fetched. Downloads go to schemas/istio/<patch>/ (git-ignored; or
 * $AKS_ISTIO_MESH_SCHEMAS), where the preview and the tests look first. $ISTIO_SOURCE_URL replaces the
 * download site (a mirror).
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { ConfigError } from "../policy-pack/lib/errors";
import { revisionInfo, RevisionInfo, SUPPORTED_REVISIONS } from "../policy-pack/lib/revisions";
import { FETCHED_SCHEMA_DIR, loadSchemaBundle, schemaDirForRevision, SHARED_SCHEMA_DIR } from "./schema";

const BUNDLE_FILE = "crd-all.gen.yaml";

/** Where downloads go, and where they come from. */
export interface FetchOptions {
    /** Where a download is written. */
    readonly target: string;
    /** Base directories searched for a bundle already present (the target first). */
    readonly present: readonly string[];
    readonly source: string;
    /** Progress lines (stdout for the fetch command, stderr for the preview so --json stays clean). */
    readonly log: (line: string) => void;
}

/** $AKS_ISTIO_MESH_SCHEMAS alone when set (the tools read only it then), else schemas/istio then shared/. */
export function defaultFetchOptions(log: (line: string) => void): FetchOptions {
    const named = process.env.AKS_ISTIO_MESH_SCHEMAS;
    return {
        target: named || FETCHED_SCHEMA_DIR,
        present: named ? [named] : [FETCHED_SCHEMA_DIR, SHARED_SCHEMA_DIR],
        source: process.env.ISTIO_SOURCE_URL || "https://raw.githubusercontent.com/istio/istio",
        log,
    };
}

/** A bundle that could not be had: the message is one line saying why. */
export class FetchError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "FetchError";
    }
}

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");
const matches = (file: string, digest: string) => fs.existsSync(file) && sha256(fs.readFileSync(file)) === digest;

/** Why a fetch() rejected, from its cause (undici wraps the socket error as "fetch failed"). */
function networkReason(e: unknown): string {
    const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string; errors?: { code?: string }[] } };
    if (err.name === "TimeoutError") return "no answer within 60 s";
    const code = err.cause?.code ?? err.cause?.errors?.[0]?.code;
    switch (code) {
        case "ENOTFOUND":
        case "EAI_AGAIN":
            return "host name not resolved";
        case "ECONNREFUSED":
            return "connection refused";
        case "ENETUNREACH":
        case "EHOSTUNREACH":
            return "network unreachable";
        case "ETIMEDOUT":
        case "UND_ERR_CONNECT_TIMEOUT":
            return "connection timed out";
        default:
            return code ?? err.cause?.message ?? err.message ?? String(e);
    }
}

/**
 * The directory holding the revision's pinned bundle: one already present with the pinned checksum
 * (in the target or in shared/), else a fresh download into the target, verified before it is written.
 */
export async function ensureBundle(info: RevisionInfo, opts: FetchOptions): Promise<string> {
    const file = path.join(opts.target, info.istioPatch, BUNDLE_FILE);
    const present = opts.present.map((base) => path.join(base, info.istioPatch, BUNDLE_FILE)).find((f) => matches(f, info.crdSha256));
    if (present) {
        return path.dirname(present);
    }
    const url = `${opts.source}/${info.istioPatch}/manifests/charts/base/files/${BUNDLE_FILE}`;
    opts.log(`Istio ${info.istioPatch} (${info.revision}): downloading ${url}`);
    let response: Response;
    try {
        response = await fetch(url, { signal: AbortSignal.timeout(60_000) });
    } catch (e) {
        throw new FetchError(`cannot download ${url}: ${networkReason(e)}`);
    }
    if (!response.ok) {
        throw new FetchError(`cannot download ${url}: HTTP ${response.status}`);
    }
    const body = Buffer.from(await response.arrayBuffer());
    const got = sha256(body);
    if (got !== info.crdSha256) {
        throw new FetchError(`${url}: SHA-256 ${got} is not the pinned ${info.crdSha256}; refusing to use it`);
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(`${file}.${process.pid}`, body);
    fs.renameSync(`${file}.${process.pid}`, file);
    opts.log(`Istio ${info.istioPatch} (${info.revision}): wrote ${file}`);
    return path.dirname(file);
}

/**
 * The CRD bundle directory for each revision. A directory the user named (--schemas or
 * $AKS_ISTIO_MESH_SCHEMAS) must hold the bundles; otherwise a bundle not present is downloaded (pinned
 * patch and checksum from the revision table), and a failed download is one line saying why.
 */
export async function bundleDirs(revisions: readonly string[], explicitBase: string | undefined): Promise<Map<string, string>> {
    const dirs = new Map<string, string>();
    const missing: string[] = [];
    for (const revision of revisions) {
        const info = revisionInfo(revision);
        if (!info) {
            throw new ConfigError("--revision", `"${revision}" is not in the revision table; supported: ${SUPPORTED_REVISIONS.map((r) => r.revision).join(", ")}`);
        }
        if (explicitBase !== undefined) {
            const dir = schemaDirForRevision(revision, explicitBase);
            if (loadSchemaBundle(dir)) dirs.set(revision, dir);
            else missing.push(`${revision} (looked in ${dir})`);
            continue;
        }
        try {
            dirs.set(revision, await ensureBundle(info, defaultFetchOptions((line) => console.error(line))));
        } catch (e) {
            if (!(e instanceof FetchError)) throw e;
            throw new ConfigError("--schemas", `no Istio ${info.istioPatch} CRDs for ${revision} and ${e.message}; offline? pass --schemas <dir> holding ${info.istioPatch}/crd-all.gen.yaml`);
        }
    }
    if (missing.length > 0) {
        throw new ConfigError("--schemas", `no Istio schema bundle for ${missing.join(", ")}`);
    }
    return dirs;
}

async function main(): Promise<void> {
    const opts = defaultFetchOptions((line) => console.log(line));
    for (const info of SUPPORTED_REVISIONS) {
        const dir = await ensureBundle(info, opts);
        console.log(`Istio ${info.istioPatch} (${info.revision}): ${path.join(dir, BUNDLE_FILE)} matches its pinned checksum`);
    }
}

if (require.main === module) {
    main().catch((e: Error) => {
        console.error(`error: ${e.message}`);
        process.exit(2);
    });
}
