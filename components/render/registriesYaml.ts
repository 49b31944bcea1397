/**
 * Renderer of the k3s / RKE2 `registries.yaml` (`/etc/rancher/k3s/registries.yaml`,
 * `/etc/rancher/rke2/registries.yaml`) and the CA / client-certificate files it points to.
 *
 * @module
 */
import * as YAML from "yaml";
import { ConfigError, keyPath, Problem } from "../model/errors";
import {
  ResolvedCredentials,
  DEFAULT_REGISTRY,
  DOCKER_HUB,
  DOCKER_HUB_SERVER,
  RegistryModel,
  ResolvedTls,
} from "../model/types";
import { checkCertsDir, modeFor, RenderedFile, RenderWarning } from "./types";

/** Options of {@link renderRegistriesYaml}. */
export interface RegistriesYamlOptions {
  /**
   * Absolute directory for the CA and client-certificate files that `registries.yaml` points to, e.g.
   * `/etc/rancher/k3s/certs.d`. Each endpoint host gets a sub-directory named after its `host[:port]` with
   * every character other than letters, digits, `.` and `-` replaced by `_`. Never use k3s' own generated
   * `/var/lib/rancher/k3s/agent/etc/containerd/certs.d`: k3s deletes it on every start.
   */
  certsDir: string;
  /**
   * Every node runs k3s/RKE2 with `--disable-default-registry-endpoint` (k3s ≥ v1.26.13, v1.27.10, v1.28.6,
   * v1.29.1). Then `fallback: false` can be expressed, and every registry that has a server lists it
   * explicitly as its last endpoint so that it stays reachable. Defaults to `false`.
   */
  disableDefaultEndpoint?: boolean;
}

/** What {@link renderRegistriesYaml} returns. */
export interface RegistriesYamlResult {
  /** The `registries.yaml` text. */
  readonly content: string;
  /** CA, client certificate and client key files the content refers to (keys are secret, mode 0600). */
  readonly files: RenderedFile[];
  /** Settings registries.yaml cannot express and that were safely left out. */
  readonly warnings: RenderWarning[];
  /** True when the content holds credentials: write it with mode 0600 and treat it as secret. */
  readonly secret: boolean;
}

interface HostSettings {
  /** Property path of the endpoint that declared the settings (for conflict messages). */
  path: string;
  /** Authority whose files the settings use. */
  authority: string;
  tls: ResolvedTls;
  auth?: ResolvedCredentials;
}

interface K3sTls {
  ca_file?: string;
  cert_file?: string;
  key_file?: string;
  insecure_skip_verify?: boolean;
}

/**
 * Render the k3s / RKE2 `registries.yaml` for a normalised registry model.
 *
 * - `mirrors."<name>".endpoint` lists the mirror URLs in order, then the server URL when it is not the
 *   registry's default endpoint (`https://<name>`, Docker Hub: `https://registry-1.docker.io`); listing the
 *   default endpoint itself would be ignored by k3s, which always tries it last anyway.
 * - Mirror URLs keep their path: k3s uses a path other than `""`, `/` or `/v2` as the API root
 *   (containerd `override_path = true`; older k3s hand it to the CRI `registry.mirrors`, which also uses a
 *   path as given), so `https://registry.aliyuncs.com/v2/google_containers` works per endpoint and no
 *   `rewrite` (which k3s applies to every endpoint of a registry) is needed.
 * - `_default` becomes the `"*"` wildcard entry.
 * - `configs."<host[:port]>"` carries `auth` (`username`/`password` or `identity_token`) and `tls`
 *   (`ca_file`, `cert_file`, `key_file`, `insecure_skip_verify`) per endpoint host; Docker Hub's default
 *   server is keyed as `docker.io` (newer k3s) and `registry-1.docker.io` (older k3s, containerd CRI).
 *
 * - A mirror's `rewrite` becomes the registry's `rewrite` map (k3s applies it to every listed endpoint, never to
 *   the default endpoint): every mirror of the registry must declare the same one.
 *
 * Dropped with a warning: headers, capabilities, push-only mirrors.
 *
 * @throws {ConfigError} for `fallback: false` without {@link RegistriesYamlOptions.disableDefaultEndpoint}
 *   (k3s would still fall back to the registry itself), for two endpoints on one host with different TLS
 *   settings or credentials (registries.yaml keys them by host), and for a bad `certsDir`.
 * @see https://docs.k3s.io/installation/private-registry
 * @see https://docs.rke2.io/install/private_registry
 */
export function renderRegistriesYaml(
  model: RegistryModel,
  opts: RegistriesYamlOptions,
): RegistriesYamlResult {
  const certsDir = checkCertsDir(opts.certsDir, "/etc/rancher/k3s/certs.d");
  const noDefault = opts.disableDefaultEndpoint === true;
  const problems: Problem[] = [];
  const warnings: RenderWarning[] = [];
  const hosts = new Map<string, HostSettings>();
  const mirrors: Record<string, { endpoint: string[]; rewrite?: Record<string, string> }> = {};

  const addHost = (key: string, settings: HostSettings): void => {
    if (!hasSettings(settings)) return;
    const prior = hosts.get(key);
    if (!prior) return void hosts.set(key, settings);
    if (!sameSettings(prior, settings)) {
      problems.push({
        path: settings.path,
        message: `endpoint host ${JSON.stringify(key)} has different TLS settings or credentials than ${prior.path}: registries.yaml keys them by host; give both the same settings`,
      });
    }
  };

  for (const reg of model.registries) {
    const path = keyPath("registries", reg.name);
    const endpoints: string[] = [];
    const listed: { path: string; rewrite?: Readonly<Record<string, string>> }[] = [];
    reg.mirrors.forEach((m, i) => {
      const mp = `${path}.mirrors[${i}]`;
      if (!m.capabilities.includes("pull") && !m.capabilities.includes("resolve")) {
        warnings.push({ path: `${mp}.capabilities`, message: PUSH_ONLY });
        return;
      }
      if (m.capabilities.join(",") !== "pull,resolve") {
        warnings.push({
          path: `${mp}.capabilities`,
          message: `registries.yaml has no capabilities: k3s uses every mirror for pull and resolve; ${JSON.stringify(m.capabilities)} dropped`,
        });
      }
      const headerNames = Object.keys(m.headers);
      if (headerNames.length > 0) {
        warnings.push({
          path: `${mp}.headers`,
          message: `registries.yaml cannot send extra HTTP headers: ${headerNames.join(", ")} dropped`,
        });
      }
      endpoints.push(m.url);
      listed.push({ path: mp, ...(m.rewrite ? { rewrite: m.rewrite } : {}) });
      addHost(m.authority, {
        path: mp,
        authority: m.authority,
        tls: m.tls,
        ...(m.auth ? { auth: m.auth } : {}),
      });
    });

    if (reg.noFallback && !noDefault) {
      problems.push({
        path: `${path}.fallback`,
        message:
          "false (no fallback) cannot be expressed in registries.yaml: k3s/RKE2 always try the registry itself last " +
          "unless every node runs with --disable-default-registry-endpoint (k3s >= v1.26.13, v1.27.10, v1.28.6, v1.29.1); " +
          "start the nodes with that flag and set disableDefaultEndpoint: true, or drop fallback: false",
      });
    }
    const server = reg.server;
    if (server) {
      const isDefault = server.url === defaultServerUrl(reg.name);
      if (!isDefault || (noDefault && reg.mirrors.length > 0)) endpoints.push(server.url);
      if (!isDefault && !noDefault && server.authority !== defaultAuthority(reg.name)) {
        warnings.push({
          path: `${path}.server`,
          message: `k3s/RKE2 also try the default endpoint ${defaultServerUrl(reg.name)}/v2 after ${JSON.stringify(server.url)} unless the nodes run with --disable-default-registry-endpoint (then set disableDefaultEndpoint: true)`,
        });
      }
      if (
        server.capabilities &&
        !(server.capabilities.includes("pull") && server.capabilities.includes("resolve"))
      ) {
        warnings.push({
          path: `${path}.capabilities`,
          message: `registries.yaml has no capabilities: k3s uses the server for pull and resolve; ${JSON.stringify(server.capabilities)} dropped`,
        });
      }
      const settings = {
        path,
        authority: server.authority,
        tls: server.tls,
        ...(server.auth ? { auth: server.auth } : {}),
      };
      if (isDefault && reg.name === DOCKER_HUB) {
        addHost(DOCKER_HUB, settings);
        addHost(server.authority, settings);
      } else {
        addHost(isDefault ? reg.name : server.authority, settings);
      }
    }
    if (reg.noFallback && endpoints.length === 0) {
      problems.push({ path: `${path}.mirrors`, message: NO_PULL_MIRROR });
    }
    const rewrite = registryRewrite(reg.name, listed, endpoints.slice(listed.length), problems);
    if (endpoints.length > 0)
      mirrors[reg.name === DEFAULT_REGISTRY ? "*" : reg.name] = {
        endpoint: endpoints,
        ...(rewrite ? { rewrite } : {}),
      };
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const files = new Map<string, RenderedFile>();
  const configs: Record<string, { auth?: Record<string, string>; tls?: K3sTls }> = {};
  let secret = false;
  for (const key of [...hosts.keys()].sort()) {
    const s = hosts.get(key) as HostSettings;
    const entry: { auth?: Record<string, string>; tls?: K3sTls } = {};
    if (s.auth) {
      secret = true;
      entry.auth =
        s.auth.kind === "basic"
          ? { username: s.auth.username, password: s.auth.password }
          : { identity_token: s.auth.identityToken };
    }
    const tls: K3sTls = {};
    const dir = `${certsDir}/${sanitizeAuthority(s.authority)}`;
    const addFile = (name: string, content: string, isSecret: boolean): string => {
      const filePath = `${dir}/${name}`;
      files.set(filePath, { path: filePath, content, mode: modeFor(isSecret), secret: isSecret });
      return filePath;
    };
    if (s.tls.ca) tls.ca_file = addFile("ca.crt", s.tls.ca, false);
    if (s.tls.clientCert && s.tls.clientKey) {
      tls.cert_file = addFile("client.crt", s.tls.clientCert, false);
      tls.key_file = addFile("client.key", s.tls.clientKey, true);
    }
    if (s.tls.insecureSkipVerify) tls.insecure_skip_verify = true;
    if (Object.keys(tls).length > 0) entry.tls = tls;
    configs[key] = entry;
  }

  const doc: Record<string, unknown> = {};
  if (Object.keys(mirrors).length > 0) doc.mirrors = mirrors;
  if (Object.keys(configs).length > 0) doc.configs = configs;
  const sortedFiles = [...files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { content: toYaml(doc), files: sortedFiles, warnings, secret };
}

/**
 * The one `rewrite` map of a registry in registries.yaml. k3s copies a registry's rewrite onto every endpoint it
 * lists (k3s `pkg/agent/containerd/config.go`, getHostConfigs) and never onto the default endpoint, so every
 * listed mirror must declare the same rewrite, and no server may be listed after them.
 */
function registryRewrite(
  name: string,
  listed: { path: string; rewrite?: Readonly<Record<string, string>> }[],
  servers: string[],
  problems: Problem[],
): Record<string, string> | undefined {
  const first = listed.find((m) => m.rewrite);
  if (!first?.rewrite) return undefined;
  const want = JSON.stringify(first.rewrite);
  for (const m of listed) {
    if (JSON.stringify(m.rewrite) !== want) {
      problems.push({
        path: `${m.path}.rewrite`,
        message: `differs from ${first.path}.rewrite: k3s applies one rewrite to every endpoint of ${JSON.stringify(name)}; give every mirror of the registry the same rewrite`,
      });
    }
  }
  for (const url of servers) {
    problems.push({
      path: `${first.path}.rewrite`,
      message: `k3s would also rewrite requests to the server ${JSON.stringify(url)}, which registries.yaml lists after the mirrors; drop the rewrite, or set fallback: false`,
    });
  }
  return { ...first.rewrite };
}

const NO_PULL_MIRROR =
  "has no mirror that may pull, and server is false: k3s would pull from the registry itself; give a mirror pull or resolve";
const PUSH_ONLY =
  "has neither pull nor resolve, so the mirror is never used to pull: left out of registries.yaml";

/** The endpoint k3s tries last for a registry name (without `/v2`). @internal */
function defaultServerUrl(name: string): string {
  return name === DOCKER_HUB ? DOCKER_HUB_SERVER : `https://${name}`;
}

function defaultAuthority(name: string): string {
  return name === DOCKER_HUB ? new URL(DOCKER_HUB_SERVER).host : name;
}

function hasSettings(s: HostSettings): boolean {
  return s.auth !== undefined || s.tls.insecureSkipVerify || !!s.tls.ca || !!s.tls.clientCert;
}

function sameSettings(a: HostSettings, b: HostSettings): boolean {
  return JSON.stringify([a.tls, a.auth ?? null]) === JSON.stringify([b.tls, b.auth ?? null]);
}

/**
 * The directory name for an endpoint host: `host[:port]` with every character other than letters,
 * digits, `.` and `-` replaced by `_` (`10.0.0.5:5000` → `10.0.0.5_5000`).
 * @internal
 */
export function sanitizeAuthority(authority: string): string {
  return authority.replace(/[^A-Za-z0-9.-]/g, "_");
}

/**
 * Serialise with the `yaml` library so that every YAML 1.1 and 1.2 parser reads the same values: string
 * values double-quoted (a password `on` or `yes` stays a string), PEM blocks as literal blocks, and keys
 * other than plain identifiers (hosts, `*`) quoted.
 */
function toYaml(value: unknown): string {
  const doc = new YAML.Document(value);
  YAML.visit(doc, {
    Scalar(key, node) {
      if (typeof node.value !== "string") return;
      if (key === "key") node.type = /^[A-Za-z_][A-Za-z0-9_]*$/.test(node.value) ? "PLAIN" : "QUOTE_DOUBLE";
      else node.type = node.value.startsWith("-----BEGIN ") ? "BLOCK_LITERAL" : "QUOTE_DOUBLE";
    },
  });
  return doc.toString({ lineWidth: 0 });
}
