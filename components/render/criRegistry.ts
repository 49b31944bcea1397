/**
 * The containerd CRI `registry` block (`registry.configs` credentials and TLS, and the legacy
 * `registry.mirrors` form), as written into MicroK8s' `containerd-template.toml` or any containerd
 * `config.toml`, plus the checked splice of that block into an existing file.
 *
 * @see https://github.com/containerd/containerd/blob/release/1.6/docs/cri/registry.md
 * @see https://github.com/containerd/containerd/blob/main/docs/cri/config.md
 * @module
 */
import * as TOML from "@iarna/toml";
import { ConfigError, keyPath, Problem } from "../model/errors";
import {
  ResolvedCredentials,
  DEFAULT_REGISTRY,
  DOCKER_HUB,
  ResolvedMirror,
  RegistryModel,
  ResolvedServer,
} from "../model/types";
import { isTomlTable, parseToml, REGISTRY_TABLE, tomlErrorPosition, tomlGet } from "./configPath";
import { byCodeUnit, TlsFileSet, TlsPaths } from "./hostsToml";
import { spliceManagedBlock, stripManagedBlock } from "./managedBlock";
import { RenderedFile, RenderWarning, rewriteProblems } from "./types";

/** Options of {@link renderCriRegistryBlock}. */
export interface CriRegistryOptions {
  /**
   * The `version` of the containerd config file the block goes into: `2` (containerd 1.x, MicroK8s) uses the
   * plugin `io.containerd.grpc.v1.cri`, `3` (containerd 2.x) uses `io.containerd.cri.v1.images`.
   */
  readonly configVersion: 2 | 3;
  /** Absolute directory for TLS files: they go to `${certsDir}/<registry name>/`, named as by hosts.toml. */
  readonly certsDir: string;
  /** Write `configs."<host>".auth` for every endpoint with credentials. */
  readonly auth: boolean;
  /**
   * Write `configs."<host>".tls`. containerd 1.x refuses `configs.tls` together with `config_path`, and
   * containerd 2.x has no such field (the settings are then left out with a warning).
   */
  readonly tls: boolean;
  /**
   * Write the legacy `mirrors."<name>".endpoint` lists (MicroK8s ≤1.22, containerd without `config_path`).
   * containerd refuses `mirrors` together with `config_path`.
   */
  readonly mirrors: boolean;
}

/** The rendered CRI registry block. */
export interface CriRegistryBlock {
  /** The TOML text to splice into the config (dotted table headers, ends with `\n`), or `undefined` if empty. */
  readonly block: string | undefined;
  /** TLS files the block refers to (absolute paths). */
  readonly files: RenderedFile[];
  /** Settings the format could not express and that were left out. */
  readonly warnings: RenderWarning[];
  /** True when the block holds a credential: components mark it `pulumi.secret`. */
  readonly secret: boolean;
  /** The config `version` the block was rendered for, checked again by {@link spliceCriBlock}. */
  readonly configVersion: 2 | 3;
}

/**
 * The CRI plugin that owns `registry` in a containerd config of the given version.
 *
 * @see https://github.com/containerd/containerd/blob/main/docs/PLUGINS.md
 */
export function criRegistryPlugin(configVersion: 2 | 3): string {
  return configVersion === 3 ? "io.containerd.cri.v1.images" : "io.containerd.grpc.v1.cri";
}

/**
 * Render the CRI `registry` block for a model: credentials (`configs."<host>".auth`), TLS
 * (`configs."<host>".tls`) and, in legacy mode, `mirrors."<name>".endpoint = [mirrors…, server]`.
 *
 * `configs` is keyed by the endpoint's `host[:port]` (so Docker Hub credentials go under
 * `registry-1.docker.io`), `mirrors` by the registry name (`_default` becomes `"*"`). TLS files are named as
 * the hosts.toml renderer names them.
 *
 * @throws {ConfigError} when two endpoints on one host need different credentials or TLS settings, and in
 *   legacy mode when containerd would fall back to a host the declaration does not allow (`fallback: false`,
 *   or a server other than the registry's default): the legacy form always appends the default host.
 * @see https://github.com/containerd/containerd/blob/release/1.6/docs/cri/registry.md
 */
export function renderCriRegistryBlock(model: RegistryModel, opts: CriRegistryOptions): CriRegistryBlock {
  const problems: Problem[] = rewriteProblems(model.registries, "the containerd CRI registry block");
  const warnings: RenderWarning[] = [];
  const files: RenderedFile[] = [];
  const configs = new Map<string, HostConfig>();
  const mirrors: Record<string, { endpoint: string[] }> = {};
  const endpointsByHost = new Map<string, { path: string; hasAuth: boolean }[]>();

  for (const registry of model.registries) {
    const base = keyPath("registries", registry.name);
    const tlsFiles = new TlsFileSet(`${opts.certsDir}/${registry.name}`);
    const endpoints: [ResolvedMirror | ResolvedServer, string][] = registry.mirrors.map((m, i) => [
      m,
      `${base}.mirrors[${i}]`,
    ]);
    if (registry.server) endpoints.push([registry.server, base]);

    for (const [ep, path] of endpoints) {
      const config = configs.get(ep.authority) ?? {};
      configs.set(ep.authority, config);
      const list = endpointsByHost.get(ep.authority) ?? [];
      endpointsByHost.set(ep.authority, list);
      list.push({ path, hasAuth: opts.auth && ep.auth !== undefined });
      if (opts.auth && ep.auth) {
        if (!config.auth) config.auth = { credentials: ep.auth, path };
        else if (!sameCredentials(config.auth.credentials, ep.auth)) {
          problems.push({
            path: `${path}.auth`,
            message: sameHostMessage("credentials", config.auth.path, ep.authority),
          });
        }
      }
      const tls = ep.tls;
      if (opts.tls && (tls.ca || tls.clientCert || tls.insecureSkipVerify)) {
        if (opts.configVersion === 3) {
          warnings.push({
            path: `${path}.tls`,
            message:
              "containerd 2.x has no registry.configs.tls: these TLS settings were left out; use hosts.toml (config_path) for them",
          });
        } else {
          const identity = JSON.stringify([tls.ca, tls.clientCert, tls.clientKey, tls.insecureSkipVerify]);
          if (!config.tls) {
            config.tls = {
              identity,
              path,
              files: tlsFiles.add(ep, path, problems),
              skip: tls.insecureSkipVerify,
            };
          } else if (config.tls.identity !== identity) {
            problems.push({
              path: `${path}.tls`,
              message: sameHostMessage("TLS settings", config.tls.path, ep.authority),
            });
          }
        }
      }
    }
    files.push(...tlsFiles.files());

    if (opts.mirrors) {
      const entry = legacyMirrors(
        registry.name,
        registry.mirrors,
        registry.server,
        registry.noFallback,
        base,
        problems,
        warnings,
      );
      if (entry) mirrors[registry.name === DEFAULT_REGISTRY ? "*" : registry.name] = { endpoint: entry };
    }
  }

  // containerd keys configs by host only: an endpoint without credentials on a host that has some gets them too.
  for (const [host, list] of [...endpointsByHost.entries()].sort(([a], [b]) => byCodeUnit(a, b))) {
    const withAuth = list.find((e) => e.hasAuth);
    if (!withAuth) continue;
    for (const e of list.filter((x) => !x.hasAuth)) {
      warnings.push({
        path: `${e.path}.auth`,
        message: `is not set, but containerd keys registry.configs by host: the credentials of ${withAuth.path} are sent to ${host} for this endpoint too`,
      });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);

  let secret = false;
  const configTable: Record<string, unknown> = {};
  for (const host of [...configs.keys()].sort(byCodeUnit)) {
    const c = configs.get(host)!;
    const entry: Record<string, unknown> = {};
    if (c.auth) {
      secret = true;
      const cred = c.auth.credentials;
      entry.auth =
        cred.kind === "basic"
          ? { username: cred.username, password: cred.password }
          : { identitytoken: cred.identityToken };
    }
    if (c.tls) {
      const t: Record<string, unknown> = {};
      if (c.tls.files.ca) t.ca_file = c.tls.files.ca;
      if (c.tls.files.cert) t.cert_file = c.tls.files.cert;
      if (c.tls.files.key) t.key_file = c.tls.files.key;
      if (c.tls.skip) t.insecure_skip_verify = true;
      entry.tls = t;
    }
    if (Object.keys(entry).length > 0) configTable[host] = entry;
  }
  const registryTable: Record<string, unknown> = {};
  const mirrorNames = Object.keys(mirrors).sort(byCodeUnit);
  if (mirrorNames.length > 0)
    registryTable.mirrors = Object.fromEntries(mirrorNames.map((n) => [n, mirrors[n]]));
  if (Object.keys(configTable).length > 0) registryTable.configs = configTable;

  const block =
    Object.keys(registryTable).length === 0
      ? undefined
      : TOML.stringify({
          plugins: { [criRegistryPlugin(opts.configVersion)]: { registry: registryTable } },
        } as TOML.JsonMap);
  return { block, files, warnings, secret, configVersion: opts.configVersion };
}

/**
 * Splice a rendered CRI block into a containerd config's text as the managed block `id` (or remove it when
 * the block is empty), then check that the result is a config containerd will load.
 *
 * Checks: the result parses as TOML; the file's `version` is the one the block was rendered for; the block
 * does not redefine a table the file already has (such as the stock `mirrors."docker.io"` of older MicroK8s
 * templates); and neither `mirrors` nor `configs.tls` sits next to a non-empty `config_path` (containerd
 * refuses to start the CRI plugin then).
 *
 * @param existingText the file's text, `undefined` when there is no file.
 * @param file a name for the file in error messages. Defaults to `"containerd config"`.
 * @returns the new text, or `undefined` when the file would be empty (see {@link spliceManagedBlock}).
 * @throws {ConfigError} naming the rule and the fix; positions are given as line and column, never content.
 * @throws {Error} when the managed block markers are damaged.
 */
export function spliceCriBlock(
  existingText: string | undefined,
  id: string,
  rendered: Pick<CriRegistryBlock, "block" | "configVersion">,
  file = "containerd config",
): string | undefined {
  const result = spliceManagedBlock(existingText, id, rendered.block);
  const fail = (message: string): never => {
    throw new ConfigError([{ path: file, message }]);
  };
  const original = existingText === undefined ? undefined : stripManagedBlock(existingText, id);
  const before = parseToml(original ?? "");
  if (before instanceof Error) {
    fail(
      `does not parse as TOML (${tomlErrorPosition(before)}) even without the managed block: fix the file by hand, then apply again`,
    );
  }
  if (result === undefined) return result;
  const after = parseToml(result);
  if (after instanceof Error) {
    const clashes = rendered.block
      ? tablesOf(TOML.parse(rendered.block)).filter((p) => has(before as TOML.JsonMap, p))
      : [];
    fail(
      `the managed block redefines ${clashes.length > 0 ? clashes.map((p) => `[${p.map(quoteKey).join(".")}]`).join(", ") : "a table or key"} that the file already has (${tomlErrorPosition(after)} of the new text): delete that table from the file by hand (the declaration now owns it), then apply again`,
    );
  }
  const doc = after as TOML.JsonMap;
  if (rendered.block !== undefined) {
    const version = typeof doc.version === "number" ? doc.version : 1;
    if (version !== rendered.configVersion) {
      fail(
        `has version = ${version} but the registry block was rendered for version = ${rendered.configVersion} (plugin ${criRegistryPlugin(rendered.configVersion)}): render it for the file's version${version === 1 ? ", or convert the file to version 2 (containerd config migrate)" : ""}`,
      );
    }
  }
  const version = typeof doc.version === "number" ? doc.version : 1;
  const registry =
    version === 1 || version === 2 || version === 3 ? tomlGet(doc, REGISTRY_TABLE[version]) : undefined;
  if (isTomlTable(registry) && typeof registry.config_path === "string" && registry.config_path !== "") {
    if (isTomlTable(registry.mirrors) && Object.keys(registry.mirrors).length > 0) {
      fail(
        'sets registry.mirrors next to a non-empty config_path, which containerd refuses ("`mirrors` cannot be set when `config_path` is provided"): render without mirrors (use hosts.toml), or remove config_path',
      );
    }
    const configs = isTomlTable(registry.configs) ? Object.values(registry.configs) : [];
    if (version !== 3 && configs.some((c) => isTomlTable(c) && c.tls !== undefined)) {
      fail(
        'sets registry.configs.*.tls next to a non-empty config_path, which containerd 1.x refuses ("`configs.tls` cannot be set when `config_path` is provided"): render without tls (hosts.toml carries TLS), or remove config_path',
      );
    }
  }
  return result;
}

interface HostConfig {
  auth?: { credentials: ResolvedCredentials; path: string };
  tls?: { identity: string; path: string; files: TlsPaths; skip: boolean };
}

/**
 * The legacy endpoint list of one registry, with the checks that containerd's legacy resolver imposes: it
 * uses a non-empty URL path as the API root, and appends the default host unless an endpoint's host equals
 * the registry name.
 */
function legacyMirrors(
  name: string,
  list: readonly ResolvedMirror[],
  server: ResolvedServer | undefined,
  noFallback: boolean,
  base: string,
  problems: Problem[],
  warnings: RenderWarning[],
): string[] | undefined {
  list.forEach((m, i) => {
    if (Object.keys(m.headers).length > 0) {
      warnings.push({
        path: `${base}.mirrors[${i}].headers`,
        message:
          "cannot be expressed in the CRI registry.mirrors form and were left out (hosts.toml can carry headers)",
      });
    }
    if (!m.capabilities.includes("pull") || !m.capabilities.includes("resolve")) {
      warnings.push({
        path: `${base}.mirrors[${i}].capabilities`,
        message:
          "cannot be expressed in the CRI registry.mirrors form: containerd uses every endpoint to pull and resolve",
      });
    }
  });
  if (
    server?.capabilities &&
    !(server.capabilities.includes("pull") && server.capabilities.includes("resolve"))
  ) {
    warnings.push({
      path: `${base}.capabilities`,
      message:
        "cannot be expressed in the CRI registry.mirrors form: containerd uses every endpoint to pull and resolve",
    });
  }
  const endpoints = [...list.map((m) => m.url), ...(server ? [server.url] : [])];
  if (name === DEFAULT_REGISTRY) return endpoints.length > 0 ? endpoints : undefined;
  if (list.some((m) => m.authority === name) || server?.authority === name) return endpoints;
  const defaultHost = name === DOCKER_HUB ? "registry-1.docker.io" : name;
  const fallback = `${isLocalHost(defaultHost) ? "http" : "https"}://${defaultHost}`;
  if (server?.url === fallback) return endpoints;
  problems.push({
    path: noFallback ? `${base}.fallback` : `${base}.server`,
    message: `${noFallback ? "false (no fallback)" : `${JSON.stringify(server?.url)} (not the registry's default host)`} cannot be expressed in the CRI registry.mirrors form: containerd always tries ${fallback} after the listed endpoints; use hosts.toml (config_path) instead${noFallback ? "" : `, or list ${JSON.stringify(server?.url)} as a mirror and keep the default server`}`,
  });
  return undefined;
}

/** containerd's legacy rule: `localhost` and loopback addresses default to plain HTTP. */
function isLocalHost(authority: string): boolean {
  const host = authority.replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1");
  return host === "localhost" || /^127\.\d+\.\d+\.\d+$/.test(host) || host === "::1";
}

function sameCredentials(a: ResolvedCredentials, b: ResolvedCredentials): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function sameHostMessage(what: string, prior: string, host: string): string {
  return `differs from the ${what} of ${prior}, but containerd's registry.configs holds one entry per host (${host}): give both endpoints the same ${what}`;
}

/** Paths of every table that has at least one non-table value (the headers the block writes). */
function tablesOf(doc: TOML.JsonMap, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  const entries = Object.entries(doc);
  if (prefix.length > 0 && entries.some(([, v]) => !isTomlTable(v))) out.push(prefix);
  for (const [k, v] of entries) if (isTomlTable(v)) out.push(...tablesOf(v, [...prefix, k]));
  return out;
}

function has(doc: TOML.JsonMap, path: string[]): boolean {
  return tomlGet(doc, path) !== undefined;
}

function quoteKey(k: string): string {
  return /^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k);
}
