/** `aks-istio-mesh:ingress`: a host per app with ingress routes and, for HTTPS, the certificate in Key Vault. */
import { z } from "zod";
import type { GatewayMode } from "../policy-pack/lib/aks";
import { object, oneOf, record, text } from "./schema";

export type { GatewayMode } from "../policy-pack/lib/aks";

/** Which of the add-on's ingress gateways serve an app. */
export const GATEWAY_CHOICES = ["external", "internal", "both"] as const;

export const HOST = {
    pattern: /^(\*|(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+)$/,
    hint: "a DNS name such as shop.example.com, *.example.com, or * (any host, only without TLS)",
};
const KEY_VAULT_ID = /^\/subscriptions\/[0-9a-f-]{36}\/resourceGroups\/[^/]+\/providers\/Microsoft\.KeyVault\/vaults\/([a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9])$/i;

export const ingress = object({
    /** Host each app with ingress routes is served on, by app name. */
    hosts: record(text(HOST)).default({}),
    /** Ingress gateway(s) each app is served through, by app name; default the external one when enabled, else the internal. */
    gateways: record(oneOf(GATEWAY_CHOICES)).default({}),
    /** HTTPS with a certificate from Azure Key Vault; port 80 redirects to 443. */
    tls: object({
        /** Resource id of the Key Vault holding the certificate. */
        keyVaultId: text({
            pattern: KEY_VAULT_ID,
            hint: "a Key Vault resource id, /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.KeyVault/vaults/<name>",
        }),
        /** Name of the Key Vault certificate (read as a secret: key and chain in PEM). */
        certificateName: text({ pattern: /^[0-9a-zA-Z-]{1,127}$/, hint: "a Key Vault certificate name" }),
    }).transform((t) => ({ ...t, keyVaultName: KEY_VAULT_ID.exec(t.keyVaultId)![1] })).optional(),
}).prefault({});

export type IngressInput = z.output<typeof ingress>;

/** Hosts per served app, after the checks against the stack's apps. */
export interface IngressConfig {
    readonly hosts: Readonly<Record<string, string>>;
    /** The ingress gateways serving each app with ingress routes (at least one when any is enabled). */
    readonly gateways: Readonly<Record<string, readonly GatewayMode[]>>;
    readonly tls?: NonNullable<IngressInput["tls"]>;
}
