/**
 * Renderer of a zot cache's `config.json` (on-demand `extensions.sync` of several upstreams) and of the
 * credentials file it reads.
 *
 * zot is not packaged for Debian, so these outputs are proven by goldens and parse checks only, never by a
 * running zot. The facts they rest on were read in zot's sources (project-zot/zot): the config is loaded
 * with viper's `UnmarshalExact` (an unknown key is an error, `pkg/cli/server/root.go`), sync settings are
 * `pkg/extensions/config/sync/config.go`, on-demand sync tries every upstream whose `content` matches the
 * requested repository (`pkg/extensions/sync/on_demand.go`, `service.go`), and `destination` maps a local
 * namespace onto the upstream's paths (`content.go`, `GetRepoSource`).
 *
 * @module
 */
import { ConfigError, keyPath, Problem } from "../model/errors";
import { ZotServer } from "../model/cluster";
import { RegistryModel } from "../model/types";

/** Where the manifests mount things in the zot container. */
export const ZOT_PATHS = {
  /** The directory of `config.json`. */
  configDir: "/etc/zot",
  /** The PersistentVolumeClaim. */
  rootDirectory: "/var/lib/registry",
  /** The directory of the credentials Secret. */
  credentialsDir: "/etc/zot-credentials",
  /** The key of the credentials file in its Secret. */
  credentialsKey: "credentials.json",
} as const;

/** Options of {@link renderZotConfig}. */
export interface ZotConfigOptions {
  /** `storage.rootDirectory`. Defaults to `/var/lib/registry`. */
  rootDirectory?: string;
  /** `http.address`. Defaults to `0.0.0.0`. */
  address?: string;
  /** `http.port`. Defaults to `5000`. */
  port?: number;
  /** `log.level`. Defaults to `info`. */
  logLevel?: "error" | "warn" | "info" | "debug";
}

/**
 * The namespace an upstream is served under in zot: its registry name when that is a valid repository path
 * component (`docker.io`), else with every run of other characters turned into `-` (`10.0.0.5:5000` →
 * `10.0.0.5-5000`). Nodes use `http(s)://<zot>/v2/<namespace>` as a path mirror of the upstream.
 */
export function zotNamespace(upstream: string): string {
  return upstream
    .toLowerCase()
    .replace(/[^a-z0-9._]+/g, "-")
    .replace(/^[-._]+|[-._]+$/g, "");
}

/**
 * Render zot's `config.json` for a normalised zot cache.
 *
 * - One `extensions.sync.registries` entry per upstream, `onDemand: true` (an image is fetched on its first
 *   pull, then served from storage), `content: [{ prefix: "**", destination: "/<namespace>" }]`: every
 *   repository of the upstream, served under its own namespace, so one zot caches several upstreams without
 *   mixing their repositories.
 * - `preserveDigest: true` and `http.compat: ["docker2s2"]`: images keep their Docker manifests and so their
 *   digests (without them zot converts to OCI and a pull by digest fails). Both need zot ≥ v2.1.3
 *   (`preserveDigest` arrived there; an older zot rejects the unknown key at start-up).
 * - `credentialsFile` when the declaration names a credentials Secret.
 *
 * @returns two-space-indented JSON with a final newline, keys in a fixed order.
 * @see https://zotregistry.dev/latest/articles/mirroring/
 */
export function renderZotConfig(zot: ZotServer, opts: ZotConfigOptions = {}): string {
  const registries = zot.upstreams.map((u) => ({
    urls: [...u.urls],
    onDemand: true,
    tlsVerify: u.tlsVerify,
    preserveDigest: true,
    content: [{ prefix: "**", destination: `/${zotNamespace(u.name)}` }],
  }));
  const sync: Record<string, unknown> = { enable: true };
  if (zot.credentialsSecret) {
    sync.credentialsFile = `${ZOT_PATHS.credentialsDir}/${ZOT_PATHS.credentialsKey}`;
  }
  sync.registries = registries;
  const doc = {
    distSpecVersion: "1.1.1",
    storage: { rootDirectory: opts.rootDirectory ?? ZOT_PATHS.rootDirectory, dedupe: true, gc: true },
    http: { address: opts.address ?? "0.0.0.0", port: String(opts.port ?? 5000), compat: ["docker2s2"] },
    log: { level: opts.logLevel ?? "info" },
    extensions: { sync },
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/**
 * Render zot's sync credentials file, `{"<host[:port]>": {"username": "…", "password": "…"}}`, from the
 * credentials the registry declaration gives each upstream's server. zot looks an upstream up by the
 * `host[:port]` of each of its URLs (`service.go`: `credentials[mainHost]`, then each mirror host), so every
 * URL's host gets the entry. The result is secret: put it in the Secret named by `credentialsSecret`, key
 * `credentials.json`.
 *
 * @returns the JSON text, or `undefined` when no upstream has credentials.
 * @throws {ConfigError} for an identity token (zot's file has no field for one), and when one host would need
 *   two different credentials. Credentials are never part of a message.
 */
export function renderZotCredentials(zot: ZotServer, model: RegistryModel): string | undefined {
  const problems: Problem[] = [];
  const entries = new Map<string, { path: string; username: string; password: string }>();
  for (const u of zot.upstreams) {
    const reg = model.registries.find((r) => r.name === u.name);
    const auth = reg?.server?.auth;
    if (!auth) continue;
    const path = `${keyPath("registries", u.name)}.auth`;
    if (auth.kind !== "basic") {
      problems.push({
        path,
        message:
          "zot's credentials file holds a username and password only: an identity token cannot be used; give username and password",
      });
      continue;
    }
    for (const url of u.urls) {
      const host = new URL(url).host;
      const prior = entries.get(host);
      if (prior && (prior.username !== auth.username || prior.password !== auth.password)) {
        problems.push({
          path,
          message: `credentials for ${JSON.stringify(host)} differ from those at ${prior.path}: zot's file holds one credential per host`,
        });
        continue;
      }
      entries.set(host, { path, username: auth.username, password: auth.password });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  if (entries.size === 0) return undefined;
  const out: Record<string, { username: string; password: string }> = {};
  for (const host of [...entries.keys()].sort()) {
    const e = entries.get(host) as { username: string; password: string };
    out[host] = { username: e.username, password: e.password };
  }
  return `${JSON.stringify(out, null, 2)}\n`;
}
