/**
 * Renderer of a distribution registry's `config.yml` (the `registry:2` / `registry:3` image, Debian's
 * `docker-registry`): a hosted registry, or a pull-through cache of one upstream (`proxy`).
 *
 * The rendered file never holds a secret: htpasswd and TLS files are mounted from Secrets and named by path,
 * and a cache's upstream credentials reach the registry as the environment variables
 * {@link PROXY_USERNAME_ENV} and {@link PROXY_PASSWORD_ENV} (distribution lets `REGISTRY_<SECTION>_<KEY>`
 * override any setting). So the config can live in a ConfigMap.
 *
 * @module
 */
import * as YAML from "yaml";
import { DistributionServer } from "../model/cluster";
import { RenderWarning } from "./types";

/** Environment variable that sets `proxy.username` (distribution's `REGISTRY_PROXY_USERNAME`). */
export const PROXY_USERNAME_ENV = "REGISTRY_PROXY_USERNAME";
/** Environment variable that sets `proxy.password` (distribution's `REGISTRY_PROXY_PASSWORD`). */
export const PROXY_PASSWORD_ENV = "REGISTRY_PROXY_PASSWORD";

/** Where the manifests mount things in the registry container (the defaults of {@link DistributionConfigOptions}). */
export const DISTRIBUTION_PATHS = {
  /** The directory of `config.yml`. */
  configDir: "/etc/registry",
  /** The PersistentVolumeClaim. */
  rootDirectory: "/var/lib/registry",
  /** The directory of the htpasswd Secret. */
  authDir: "/auth",
  /** The directory of the `kubernetes.io/tls` Secret (`tls.crt`, `tls.key`). */
  certsDir: "/certs",
} as const;

/** Options of {@link renderDistributionConfig}: paths and the listen address, for a container or a test. */
export interface DistributionConfigOptions {
  /** Storage root. Defaults to `/var/lib/registry`. */
  rootDirectory?: string;
  /** `http.addr`. Defaults to `:5000`. */
  addr?: string;
  /** The htpasswd file. Defaults to `/auth/<key>`. */
  htpasswdPath?: string;
  /** The TLS certificate. Defaults to `/certs/tls.crt`. */
  tlsCertificate?: string;
  /** The TLS key. Defaults to `/certs/tls.key`. */
  tlsKey?: string;
  /** `log.level`. Defaults to `info`. */
  logLevel?: "error" | "warn" | "info" | "debug";
}

/** What {@link renderDistributionConfig} returns. */
export interface DistributionConfig {
  /** The `config.yml` text (no secret in it). */
  readonly content: string;
  /** What the registry will not do as declared. */
  readonly warnings: RenderWarning[];
}

/**
 * Render `config.yml` for a normalised distribution server (see `normalizeCluster`).
 *
 * - `storage.filesystem` under the claim; `delete` enabled for a hosted registry (a cache refuses deletes);
 *   the storage-driver health check on, so that a broken volume turns `/` and `/v2/` into 503 (distribution
 *   wraps every route, `/` included, in its health handler).
 * - `auth.htpasswd` and `http.tls` point at the mounted Secret files.
 * - `proxy.remoteurl` for a cache, `proxy.ttl` when declared and the image is distribution 3.x.
 * - No `http.secret`: with one replica (the manifests run one, with a `Recreate` strategy) the random secret
 *   distribution generates at start-up is enough; it only signs upload state between replicas.
 *
 * Warnings: upstream credentials (distribution only sends them after a Bearer challenge, never to a Basic
 * upstream), and `ttl` on distribution 2.x (which keeps cached content 168h, fixed).
 *
 * @see https://distribution.github.io/distribution/about/configuration/
 * @see https://distribution.github.io/distribution/recipes/mirror/
 */
export function renderDistributionConfig(
  server: DistributionServer,
  opts: DistributionConfigOptions = {},
): DistributionConfig {
  const warnings: RenderWarning[] = [];
  const base = server.proxy ? `cluster.caches[${JSON.stringify(server.proxy.upstream)}]` : "cluster.registry";
  const storage: Record<string, unknown> = {
    filesystem: { rootdirectory: opts.rootDirectory ?? DISTRIBUTION_PATHS.rootDirectory },
  };
  if (!server.proxy) storage.delete = { enabled: true };

  const http: Record<string, unknown> = {
    addr: opts.addr ?? ":5000",
    headers: { "X-Content-Type-Options": ["nosniff"] },
  };
  if (server.tls) {
    http.tls = {
      certificate: opts.tlsCertificate ?? `${DISTRIBUTION_PATHS.certsDir}/tls.crt`,
      key: opts.tlsKey ?? `${DISTRIBUTION_PATHS.certsDir}/tls.key`,
    };
  }

  const doc: Record<string, unknown> = {
    version: "0.1",
    log: { level: opts.logLevel ?? "info", fields: { service: server.name } },
    storage,
    http,
  };
  if (server.auth) {
    doc.auth = {
      htpasswd: {
        realm: server.auth.realm,
        path: opts.htpasswdPath ?? `${DISTRIBUTION_PATHS.authDir}/${server.auth.key}`,
      },
    };
  }
  doc.health = { storagedriver: { enabled: true, interval: "10s", threshold: 3 } };

  if (server.proxy) {
    const proxy: Record<string, unknown> = { remoteurl: server.proxy.remoteUrl };
    if (server.proxy.credentials) {
      warnings.push({
        path: `${base}.credentials`,
        message:
          "distribution sends upstream credentials only after a Bearer (token) challenge, never to an upstream " +
          "that asks for Basic (htpasswd) auth: against such an upstream every pull through the cache fails " +
          '("manifest unknown"); use them with token-auth registries (Docker Hub, ghcr.io, quay.io, Harbor)',
      });
    }
    if (server.proxy.ttl !== undefined) {
      if (server.distributionVersion === 2) {
        warnings.push({
          path: `${base}.ttl`,
          message: `distribution 2.x has no proxy.ttl (it keeps cached content 168h, fixed): ${JSON.stringify(server.proxy.ttl)} left out; use a registry:3 image to set it`,
        });
      } else {
        proxy.ttl = server.proxy.ttl;
        if (server.distributionVersion === undefined) {
          warnings.push({
            path: `${base}.ttl`,
            message: `proxy.ttl is read by distribution 3.x only; 2.x ignores it and keeps cached content 168h (the image ${JSON.stringify(server.image)} does not say which it is)`,
          });
        }
      }
    }
    doc.proxy = proxy;
  }
  return { content: toYaml(doc), warnings };
}

/** YAML with every string double-quoted (a URL or a realm never turns into another type). */
function toYaml(value: unknown): string {
  const doc = new YAML.Document(value);
  YAML.visit(doc, {
    Scalar(key, node) {
      if (typeof node.value === "string" && key !== "key") node.type = "QUOTE_DOUBLE";
    },
  });
  return doc.toString({ lineWidth: 0 });
}
