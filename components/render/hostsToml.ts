/**
 * containerd `hosts.toml` renderer: one `certs.d/<registry>/` directory per registry, holding `hosts.toml` and
 * the TLS files it names.
 *
 * @see https://github.com/containerd/containerd/blob/main/docs/hosts.md
 * @module
 */
import * as TOML from "@iarna/toml";
import { ConfigError, keyPath, Problem } from "../model/errors";
import {
  Capability,
  ResolvedCredentials,
  ResolvedMirror,
  ResolvedRegistry,
  RegistryModel,
  ResolvedServer,
  ResolvedTls,
} from "../model/types";
import { modeFor, RenderedFile, RenderWarning, rewriteProblems } from "./types";

/** Options of {@link renderHostsDirectory} and {@link renderHostsDirectories}. */
export interface HostsTomlOptions {
  /**
   * The absolute directory containerd's `config_path` points at, without a trailing slash, e.g.
   * `/etc/containerd/certs.d` or `/var/snap/microk8s/current/args/certs.d`. TLS file paths in `hosts.toml`
   * are absolute paths under it.
   */
  readonly certsDir: string;
  /**
   * Write Basic credentials as an `Authorization` header on their endpoint (read on every pull, no restart).
   * Only registries that answer with a Basic challenge accept it: after a Bearer challenge containerd replaces
   * the header, so token registries (Docker Hub, Harbor, GHCR) need the CRI `configs.auth` block instead.
   * When `false`, credentials are left out here (and an identity token is no error). Defaults to `true`.
   */
  readonly credentials?: boolean;
}

/** One registry's rendered `certs.d` directory. */
export interface HostsDirectory {
  /** `${certsDir}/${registry.name}`: the directory containerd looks up for `host:port`. */
  readonly dir: string;
  /** `hosts.toml` first, then the TLS files in path order. */
  readonly files: RenderedFile[];
  /** Settings the format could not express and that were left out. */
  readonly warnings: RenderWarning[];
}

/** All registries' rendered `certs.d` directories. */
export interface HostsDirectories {
  /** Every file of every directory, registries in name order. */
  readonly files: RenderedFile[];
  /** Settings the format could not express and that were left out. */
  readonly warnings: RenderWarning[];
}

/**
 * The value of an HTTP Basic `Authorization` header: `Basic base64(username:password)`.
 *
 * The result is a credential: keep it secret.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7617
 */
export function basicAuthHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, "utf8").toString("base64")}`;
}

/**
 * Render one registry's `certs.d/<name>/` directory: `hosts.toml` plus the CA, client certificate and client
 * key files it refers to.
 *
 * Mirrors become `[host."<url>"]` entries in declaration order, the server becomes the top-level `server`;
 * with `fallback: false` the last mirror takes the server's place so that containerd has nothing to fall
 * back to; `_default` has no `server`. Basic credentials become an `Authorization` header on their
 * endpoint, which makes `hosts.toml` secret (mode 0600).
 *
 * @throws {ConfigError} for identity tokens (hosts.toml has no field that can carry one) and for two
 *   endpoints on one host with different TLS files.
 * @see https://github.com/containerd/containerd/blob/main/docs/hosts.md
 */
export function renderHostsDirectory(registry: ResolvedRegistry, opts: HostsTomlOptions): HostsDirectory {
  const dir = `${opts.certsDir}/${registry.name}`;
  const base = keyPath("registries", registry.name);
  const problems: Problem[] = rewriteProblems([registry], "containerd hosts.toml");
  const tlsFiles = new TlsFileSet(dir);
  let secret = false;

  const endpoint = (
    ep: {
      capabilities?: readonly Capability[];
      overridePath?: boolean;
      tls: ResolvedTls;
      auth?: ResolvedCredentials;
    },
    headers: Readonly<Record<string, readonly string[]>>,
    paths: TlsPaths,
    path: string,
  ): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    if (ep.capabilities) out.capabilities = [...ep.capabilities];
    if (ep.overridePath) out.override_path = true;
    if (paths.ca) out.ca = paths.ca;
    if (paths.cert && paths.key) out.client = [[paths.cert, paths.key]];
    if (ep.tls.insecureSkipVerify) out.skip_verify = true;
    const header: Record<string, string | string[]> = {};
    for (const [name, values] of Object.entries(headers)) {
      header[name] = values.length === 1 ? values[0] : [...values];
      // Header values are treated as secret (an API key is a common use): the file gets mode 0600.
      secret = true;
    }
    if (opts.credentials === false) {
      // Credentials go elsewhere (the CRI configs.auth block).
    } else if (ep.auth?.kind === "basic") {
      header.Authorization = basicAuthHeader(ep.auth.username, ep.auth.password);
      secret = true;
    } else if (ep.auth?.kind === "token") {
      problems.push({ path: `${path}.auth`, message: IDENTITY_TOKEN_MESSAGE });
    }
    const names = Object.keys(header).sort(byCodeUnit);
    if (names.length > 0) out.header = Object.fromEntries(names.map((n) => [n, header[n]]));
    return out;
  };

  const mirrorPaths = registry.mirrors.map((m, i) => tlsFiles.add(m, `${base}.mirrors[${i}]`, problems));
  const serverPaths = registry.server ? tlsFiles.add(registry.server, `${base}`, problems) : undefined;

  // With no fallback the last mirror is the server: containerd always tries `server` last, and a missing
  // `server` would mean "the image's own registry", which the user ruled out.
  const hostCount = registry.noFallback ? registry.mirrors.length - 1 : registry.mirrors.length;
  let top: Record<string, unknown> = {};
  if (registry.server) {
    top = { server: registry.server.url, ...endpoint(registry.server, {}, serverPaths!, base) };
  } else if (registry.noFallback && registry.mirrors.length > 0) {
    const last = registry.mirrors.length - 1;
    const m = registry.mirrors[last];
    top = { server: m.url, ...endpoint(m, m.headers, mirrorPaths[last], `${base}.mirrors[${last}]`) };
  }
  const host: Record<string, unknown> = {};
  for (let i = 0; i < hostCount; i++) {
    const m = registry.mirrors[i];
    host[m.url] = endpoint(m, m.headers, mirrorPaths[i], `${base}.mirrors[${i}]`);
  }
  // containerd 1.6 ignores a hosts.toml without a `host` table ("invalid `host` tree", seen on the rig) and then
  // pulls from https://<name>. An empty table is enough (listing the server there too would try it twice).
  if (hostCount > 0 || top.server !== undefined) top.host = host;
  if (problems.length > 0) throw new ConfigError(problems);
  // `_default` without mirrors says nothing: no directory at all.
  if (top.server === undefined && top.host === undefined) return { dir, files: [], warnings: [] };

  const hostsToml: RenderedFile = {
    path: `${dir}/hosts.toml`,
    content: TOML.stringify(top as TOML.JsonMap),
    mode: modeFor(secret),
    secret,
  };
  return { dir, files: [hostsToml, ...tlsFiles.files()], warnings: [] };
}

/**
 * Render the `certs.d` directories of every registry in the model (in name order).
 *
 * @throws {ConfigError} with the problems of every registry at once.
 * @see renderHostsDirectory
 */
export function renderHostsDirectories(model: RegistryModel, opts: HostsTomlOptions): HostsDirectories {
  const files: RenderedFile[] = [];
  const warnings: RenderWarning[] = [];
  const problems: Problem[] = [];
  for (const registry of model.registries) {
    try {
      const d = renderHostsDirectory(registry, opts);
      files.push(...d.files);
      warnings.push(...d.warnings);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.push(...e.problems);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { files, warnings };
}

const IDENTITY_TOKEN_MESSAGE =
  "an identity token cannot be written to hosts.toml (it has no credential field, and a header cannot carry an OAuth2 refresh token): use a profile that writes the CRI registry.configs auth block (e.g. MicroK8s containerd-template.toml), or give username and password";

/** Absolute paths of one endpoint's TLS files. @internal */
export interface TlsPaths {
  /** CA bundle (`ca.crt` / `<stem>.crt`). */
  readonly ca?: string;
  /** Client certificate (`client.cert` / `<stem>.cert`). */
  readonly cert?: string;
  /** Client key (`client.key` / `<stem>.key`). */
  readonly key?: string;
}

/**
 * The file stem of an endpoint's TLS files: `client` (with `ca.crt`) for the server, `mirror-<authority>`
 * with every character outside `[A-Za-z0-9._-]` replaced by `_` for a mirror.
 * @internal
 */
export function tlsFileStem(kind: "server" | "mirror", authority: string): string {
  return kind === "server" ? "client" : `mirror-${authority.replace(/[^A-Za-z0-9._-]/g, "_")}`;
}

/**
 * Collects the TLS files of the endpoints written to one directory, sharing a file between endpoints on the
 * same host when the PEM is identical and reporting a problem when it is not. Shared by the hosts.toml and
 * CRI renderers so that both name files identically.
 * @internal
 */
export class TlsFileSet {
  private readonly byPath = new Map<string, { content: string; secret: boolean; path: string }>();

  /** @param dir absolute directory the files go to. */
  constructor(private readonly dir: string) {}

  /**
   * Register an endpoint's TLS files and return their absolute paths. Mirrors are told apart from the
   * server by their `overridePath` field.
   *
   * @param path the endpoint's property path (`registries["x"]` or `registries["x"].mirrors[0]`).
   */
  add(endpoint: ResolvedMirror | ResolvedServer, path: string, problems: Problem[]): TlsPaths {
    const kind = "overridePath" in endpoint ? "mirror" : "server";
    const stem = tlsFileStem(kind, endpoint.authority);
    const tls = endpoint.tls;
    const out: { ca?: string; cert?: string; key?: string } = {};
    if (tls.ca)
      out.ca = this.put(
        kind === "server" ? "ca.crt" : `${stem}.crt`,
        tls.ca,
        false,
        `${path}.tls.ca`,
        problems,
      );
    if (tls.clientCert && tls.clientKey) {
      out.cert = this.put(`${stem}.cert`, tls.clientCert, false, `${path}.tls.clientCert`, problems);
      out.key = this.put(`${stem}.key`, tls.clientKey, true, `${path}.tls.clientKey`, problems);
    }
    return out;
  }

  /** The collected files, sorted by path. */
  files(): RenderedFile[] {
    return [...this.byPath.entries()]
      .sort(([a], [b]) => byCodeUnit(a, b))
      .map(([path, f]) => ({ path, content: f.content, mode: modeFor(f.secret), secret: f.secret }));
  }

  private put(name: string, content: string, secret: boolean, path: string, problems: Problem[]): string {
    const file = `${this.dir}/${name}`;
    const prior = this.byPath.get(file);
    if (prior === undefined) {
      this.byPath.set(file, { content, secret, path });
    } else if (prior.content !== content) {
      problems.push({
        path,
        message: `differs from ${prior.path} on the same host, but both would be written to ${name}: give endpoints on one host the same TLS settings`,
      });
    }
    return file;
  }
}

/** Code-unit order, the same in every locale. @internal */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
