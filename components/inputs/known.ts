/**
 * The part of a declaration that is known while a program is being built: every `Output` or `Promise` leaf is
 * replaced by a placeholder that keeps its meaning for the plan (a credential stays a credential, a CA stays a CA),
 * and its place is recorded, so that problems about it wait until its real value is known.
 *
 * @module
 */
import * as pulumi from "@pulumi/pulumi";

/**
 * A certificate and key that stand in for PEM values not known yet. They are only ever planned with, to know
 * which files a node will get; they are never written anywhere (the real values replace them before anything is
 * rendered for a node).
 */
const PLACEHOLDER_CERT = `-----BEGIN CERTIFICATE-----
MIIB1TCCAXugAwIBAgIUOK+a6Hb2p31GP16GWdy8Q8XDD3QwCgYIKoZIzj0EAwIw
PzE9MDsGA1UEAww0cmVnaXN0cnktc2V0dXAgcGxhY2Vob2xkZXIgKG5ldmVyIHdy
aXR0ZW4gdG8gYSBub2RlKTAgFw0yNjExMjcyMjMwNDRaGA8yMTI2MTEwMzIyMzA0
NFowPzE9MDsGA1UEAww0cmVnaXN0cnktc2V0dXAgcGxhY2Vob2xkZXIgKG5ldmVy
IHdyaXR0ZW4gdG8gYSBub2RlKTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABBI+
EYevcVMe8WrMN+9cJoFoOOWLJ8OwfhfXtG2JBm5i/qIhZ7/IvdWCqNZRoB5GZ9om
v+u9rGBW0we2/z45/xCjUzBRMB0GA1UdDgQWBBRZK6XVe1W6LSAvtUgXPBdWHz/b
OTAfBgNVHSMEGDAWgBRZK6XVe1W6LSAvtUgXPBdWHz/bOTAPBgNVHRMBAf8EBTAD
AQH/MAoGCCqGSM49BAMCA0gAMEUCICNTqQbXd7lcWB3NfHygyPcJuQP1ApvJP1uz
ZLtF6vFsAiEA3yeNuQQZ1f9GESBEs3rtnOQk4Wsk5rsiR7zGzmoIlqY=
-----END CERTIFICATE-----
`;
const PLACEHOLDER_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgmqg5Q3uh51Mbvj9S
hRSBs1YaIU//a637LfCYs42/18ehRANCAAQSPhGHr3FTHvFqzDfvXCaBaDjliyfD
sH4X17RtiQZuYv6iIWe/yL3VgqjWUaAeRmfaJr/rvaxgVtMHtv8+Of8Q
-----END PRIVATE KEY-----
`;

/** The placeholder certificate and its key (a matching pair). */
export const PLACEHOLDER_PEM = { cert: PLACEHOLDER_CERT, key: PLACEHOLDER_KEY } as const;

const PLACEHOLDERS: Record<string, unknown> = {
  username: "unknown",
  password: "unknown",
  identityToken: "unknown",
  endpoint: "https://unknown.invalid",
  server: "https://unknown.invalid",
  ca: PLACEHOLDER_CERT,
  clientCert: PLACEHOLDER_CERT,
  clientKey: PLACEHOLDER_KEY,
  // Whole objects: credentials and TLS settings keep their meaning for the plan.
  auth: { username: "unknown", password: "unknown" },
  tls: { ca: PLACEHOLDER_CERT },
};

/** The known part of a value and where it had unknown leaves. */
export interface KnownPart {
  /** The value with placeholders (or nothing) where it was not known. */
  readonly value: unknown;
  /**
   * Property paths whose problems must wait: the object that holds each unknown leaf (a mirror whose
   * `overridePath` is unknown can be judged only as a whole), or the root when the value itself is unknown.
   */
  readonly pending: readonly string[];
  /**
   * Whether an unknown value may change which files a node gets (a whole registry, `auth` or `tls` object, a
   * flag…), as opposed to only their content (a password, an endpoint, a PEM, whose placeholders keep their
   * meaning).
   */
  readonly structural: boolean;
}

/** Leaves whose placeholder decides the same files as any real value would. */
const CONTENT_ONLY = new Set([
  "username",
  "password",
  "identityToken",
  "endpoint",
  "server",
  "ca",
  "clientCert",
  "clientKey",
]);

/** Whether a problem at `path` waits for a value that is not known yet. */
export function isPending(known: KnownPart, path: string): boolean {
  return known.pending.some((u) => path === u || path.startsWith(`${u}.`) || path.startsWith(`${u}[`));
}

/**
 * The known part of `value`, whose property paths start at `path`. Map keys (the registry names at the top, header
 * names under `headers`) are printed as `["key"]`, other fields as `.key`.
 */
export function knownPart(value: unknown, path = "registries"): KnownPart {
  const pending: string[] = [];
  let structural = false;
  const walk = (v: unknown, p: string, parent: string, key: string | undefined, level: number): unknown => {
    if (pulumi.Output.isInstance(v) || v instanceof Promise) {
      // A whole registry that is unknown is kept as a registry without settings; a field that is unknown makes
      // the object holding it wait, and takes a placeholder where it decides which files a node gets.
      if (level <= 1) {
        pending.push(p);
        structural = true;
        return level === 0 ? undefined : {};
      }
      pending.push(parent);
      // Header values are content too (the names, which are keys, are known).
      if (!(key !== undefined && CONTENT_ONLY.has(key)) && !/\.(headers|rewrite)$/.test(parent))
        structural = true;
      return key !== undefined && key in PLACEHOLDERS ? PLACEHOLDERS[key] : undefined;
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${p}[${i}]`, p, undefined, level + 1));
    if (typeof v === "object" && v !== null) {
      const mapLike = level === 0 || key === "headers" || key === "rewrite";
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        const w = walk(x, mapLike ? `${p}[${JSON.stringify(k)}]` : `${p}.${k}`, p, k, level + 1);
        if (w !== undefined) out[k] = w;
      }
      return out;
    }
    return v;
  };
  const known = walk(value, path, path, undefined, 0);
  return { value: known, pending, structural };
}
