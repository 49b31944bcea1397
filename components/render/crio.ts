/**
 * Renderer of a containers `registries.conf.d` drop-in (what CRI-O, podman and skopeo read) and the
 * `containers-certs.d` files next to it.
 *
 * @module
 */
import * as TOML from "@iarna/toml";
import { ConfigError, keyPath, Problem } from "../model/errors";
import {
  DEFAULT_REGISTRY,
  DOCKER_HUB,
  DOCKER_HUB_SERVER,
  ResolvedMirror,
  RegistryModel,
} from "../model/types";
import { checkCertsDir, HostCertDir, RenderedFile, RenderWarning, rewriteProblems } from "./types";

/** Options of {@link renderRegistriesConf}. */
export interface RegistriesConfOptions {
  /**
   * Absolute `containers-certs.d` directory for CA and client-certificate files.
   * Defaults to `/etc/containers/certs.d`.
   */
  certsDir?: string;
}

/** What {@link renderRegistriesConf} returns. */
export interface RegistriesConfResult {
  /** The drop-in TOML (registries.conf version 2). Never holds a credential. */
  readonly content: string;
  /** `<certsDir>/<host[:port]>/ca.crt`, `client.cert` and `client.key` (secret, mode 0600). */
  readonly files: RenderedFile[];
  /** Settings registries.conf cannot express and that were safely left out. */
  readonly warnings: RenderWarning[];
}

/** Default `containers-certs.d` directory. */
export const CONTAINERS_CERTS_DIR = "/etc/containers/certs.d";

interface TomlMirror {
  location: string;
  insecure?: boolean;
  "pull-from-mirror"?: string;
}

interface TomlRegistry {
  prefix: string;
  location: string;
  insecure?: boolean;
  mirror?: TomlMirror[];
}

/**
 * Render a `registries.conf.d` drop-in (`/etc/containers/registries.conf.d/<name>.conf`).
 *
 * - One `[[registry]]` per registry: `prefix` is the registry name, `location` is the server's
 *   `host[:port]` (the name itself for the default server). `prefix` alone is not enough: containers/image
 *   rejects a non-wildcard `prefix` without `location`. `insecure = true` for plain HTTP or skip-verify.
 * - `[[registry.mirror]]` per mirror: `location` is `host[:port]` plus `/<namespace>` for a
 *   `/v2/<namespace>` mirror; `pull-from-mirror` is `digest-only` for a pull-only mirror, `tag-only` for a
 *   resolve-only mirror, and left out (default `all`) for pull and resolve.
 * - `fallback: false`: the last mirror becomes the `location`, so nothing else is ever contacted.
 * - `unqualified-search-registries` is never set: a drop-in would replace the main file's list.
 * - A registry with nothing to say (no mirror, default server, no insecure) gets no table: a drop-in table
 *   replaces a table with the same prefix in the main file.
 * - TLS files follow containers-certs.d(5): a directory per `host[:port]` exactly as images and endpoints
 *   name it, `*.crt` for CAs, `client.cert` and `client.key` for the client pair.
 *
 * Dropped with a warning: `_default` (registries.conf has no catch-all), credentials (they belong in the
 * auth file, keyed by the mirror host), headers, push capability, push-only mirrors.
 *
 * @throws {ConfigError} for a mirror path other than `/v2` or `/v2/<namespace>`, for two endpoints on one
 *   host with different TLS files, and for a bad `certsDir`.
 * @see https://github.com/containers/image/blob/main/docs/containers-registries.conf.5.md
 * @see https://github.com/containers/image/blob/main/docs/containers-registries.conf.d.5.md
 * @see https://github.com/containers/image/blob/main/docs/containers-certs.d.5.md
 */
export function renderRegistriesConf(
  model: RegistryModel,
  opts: RegistriesConfOptions = {},
): RegistriesConfResult {
  const certsDir = checkCertsDir(opts.certsDir ?? CONTAINERS_CERTS_DIR, CONTAINERS_CERTS_DIR);
  const problems: Problem[] = rewriteProblems(model.registries, "registries.conf (CRI-O, podman, skopeo)");
  const warnings: RenderWarning[] = [];
  const certs = new HostCertDir(certsDir, "containers-certs.d");
  const tables: TomlRegistry[] = [];

  const authWarning = (path: string, host: string): void => {
    warnings.push({
      path: `${path}.auth`,
      message: `registries.conf cannot hold credentials: put them in the auth file (e.g. a .dockerconfigjson) under the key ${JSON.stringify(host)}`,
    });
  };

  for (const reg of model.registries) {
    const path = keyPath("registries", reg.name);
    if (reg.name === DEFAULT_REGISTRY) {
      warnings.push({
        path,
        message:
          "registries.conf has no catch-all registry: _default mirrors are not applied; declare each registry by name",
      });
      continue;
    }
    const mirrors: { table: TomlMirror; path: string; mirror: ResolvedMirror }[] = [];
    reg.mirrors.forEach((m, i) => {
      const mp = `${path}.mirrors[${i}]`;
      const pull = m.capabilities.includes("pull");
      const resolve = m.capabilities.includes("resolve");
      if (!pull && !resolve) {
        warnings.push({ path: `${mp}.capabilities`, message: PUSH_ONLY });
        return;
      }
      if (m.capabilities.includes("push")) {
        warnings.push({
          path: `${mp}.capabilities`,
          message: `registries.conf mirrors are never used to push: "push" dropped`,
        });
      }
      let location = m.authority;
      if (m.path !== "" && m.path !== "/v2") {
        if (!m.namespace) {
          problems.push({
            path: `${mp}.endpoint`,
            message: `${JSON.stringify(m.url)} has a path that is not "/v2/<namespace>": registries.conf mirrors are host[:port][/namespace] and always add /v2; use a /v2/<namespace> path or no path`,
          });
          return;
        }
        location = `${m.authority}/${m.namespace}`;
      }
      const table: TomlMirror = { location };
      if (m.scheme === "http" || m.tls.insecureSkipVerify) table.insecure = true;
      if (pull && !resolve) table["pull-from-mirror"] = "digest-only";
      if (resolve && !pull) table["pull-from-mirror"] = "tag-only";
      certs.add(m.authority, mp, m.tls, problems);
      if (m.auth) authWarning(mp, m.authority);
      const headerNames = Object.keys(m.headers);
      if (headerNames.length > 0) {
        warnings.push({
          path: `${mp}.headers`,
          message: `registries.conf cannot send extra HTTP headers: ${headerNames.join(", ")} dropped`,
        });
      }
      mirrors.push({ table, path: mp, mirror: m });
    });

    const table: TomlRegistry = { prefix: reg.name, location: reg.name };
    if (reg.server) {
      const server = reg.server;
      const isDefault = server.url === (reg.name === DOCKER_HUB ? DOCKER_HUB_SERVER : `https://${reg.name}`);
      table.location = isDefault ? reg.name : server.authority;
      if (server.scheme === "http" || server.tls.insecureSkipVerify) table.insecure = true;
      certs.add(server.authority, path, server.tls, problems);
      if (server.auth) authWarning(path, table.location);
      if (
        server.capabilities &&
        !(server.capabilities.includes("pull") && server.capabilities.includes("resolve"))
      ) {
        warnings.push({
          path: `${path}.capabilities`,
          message: `registries.conf uses the primary location for every pull: ${JSON.stringify(server.capabilities)} dropped`,
        });
      }
    } else {
      // fallback: false — the last mirror is the primary location, so nothing else is ever contacted.
      const last = mirrors.pop();
      if (!last) {
        problems.push({
          path: `${path}.mirrors`,
          message: "has no mirror that may pull, and server is false: give a mirror pull or resolve",
        });
        continue;
      }
      table.location = last.table.location;
      if (last.table.insecure) table.insecure = true;
      if (last.table["pull-from-mirror"]) {
        warnings.push({
          path: `${last.path}.capabilities`,
          message: `is the primary location (fallback: false), which registries.conf uses for every pull: ${JSON.stringify(last.mirror.capabilities)} dropped`,
        });
      }
    }
    if (mirrors.length > 0) table.mirror = mirrors.map((m) => m.table);
    if (table.location === table.prefix && !table.insecure && !table.mirror) continue;
    tables.push(table);
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const files = certs.files();
  const content = tables.length > 0 ? TOML.stringify({ registry: tables } as unknown as TOML.JsonMap) : "";
  return { content, files, warnings };
}

const PUSH_ONLY =
  "has neither pull nor resolve, so the mirror is never used to pull: left out of registries.conf";
