/**
 * Downloads the Istio CRD bundles the offline schema check reads, for machines without the
 * `shared/schemas` directory beside the repository (a GitHub runner, a fresh clone):
 *
 *   npm run schemas:fetch        (also run before npm test)
 *
 * Bundles already present with the pinned checksum, wherever the tools find them, are not fetched.
 *
 * Each file comes from Istio's repository at a pinned tag and must match its pinned SHA-256; it is
 * written to schemas/istio/<version>/ (git-ignored; or $AKS_ISTIO_MESH_SCHEMAS), where the preview and
 * the tests look first. $ISTIO_SOURCE_URL replaces the download site (a mirror).
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "./offline/runtime";
import { defaultSchemaBaseDir, FETCHED_SCHEMA_DIR } from "./schema";

/** The Istio release behind each supported AKS revision, and the checksum of its crd-all.gen.yaml. */
const BUNDLES = [
    { revision: "asm-1-29", istio: "1.29.6", sha256: "53fd74da78d4d3ecb2e7e369e53101ea4e81b00b40f03eb75894d2e97dd5b19a" },
    { revision: "asm-1-30", istio: "1.30.3", sha256: "dcb43ff6b9af2f629b80b6a82597f5a91db259c757e66cc5353ac007da28351a" },
] as const;

const SOURCE = process.env.ISTIO_SOURCE_URL || "https://raw.githubusercontent.com/istio/istio";
const TARGET = process.env.AKS_ISTIO_MESH_SCHEMAS || FETCHED_SCHEMA_DIR;

const matches = (file: string, sha256: string) => fs.existsSync(file) && createHash("sha256").update(fs.readFileSync(file)).digest("hex") === sha256;

async function fetchBundle(istio: string, sha256: string): Promise<void> {
    const file = path.join(TARGET, istio, "crd-all.gen.yaml");
    const present = [file, path.join(defaultSchemaBaseDir(), istio, "crd-all.gen.yaml")].find((f) => matches(f, sha256));
    if (present) {
        console.log(`Istio ${istio}: ${path.relative(ROOT, present)} is present and matches its checksum`);
        return;
    }
    const url = `${SOURCE}/${istio}/manifests/charts/base/files/crd-all.gen.yaml`;
    const response = await fetch(url);
    if (!response.ok) {
        throw new Error(`${url}: HTTP ${response.status}`);
    }
    const body = Buffer.from(await response.arrayBuffer());
    const got = createHash("sha256").update(body).digest("hex");
    if (got !== sha256) {
        throw new Error(`${url}: SHA-256 ${got} is not the pinned ${sha256}; refusing to use it`);
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, body);
    console.log(`Istio ${istio}: wrote ${path.relative(ROOT, file)}`);
}

async function main(): Promise<void> {
    for (const b of BUNDLES) {
        await fetchBundle(b.istio, b.sha256);
    }
}

main().catch((e: Error) => {
    console.error(`error: ${e.message}`);
    process.exit(2);
});
