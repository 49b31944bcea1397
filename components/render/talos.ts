/**
 * Renderer of Talos registry configuration: the classic `machine.registries` patch and the newer
 * `RegistryMirrorConfig` / `RegistryAuthConfig` / `RegistryTLSConfig` documents (Talos ≥ 1.12).
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
import { RenderWarning, rewriteProblems } from "./types";

/** What {@link renderTalosRegistries} returns. */
export interface TalosRegistriesResult {
  /** A machine-config patch (YAML) with `machine.registries.mirrors` and `machine.registries.config`. */
  readonly machineConfigPatch: string;
  /**
   * The same setup as multi-document YAML of `RegistryMirrorConfig`, `RegistryAuthConfig` and
   * `RegistryTLSConfig` documents (Talos ≥ 1.12), `""` when there is nothing to say. Use either this or
   * {@link TalosRegistriesResult.machineConfigPatch}, not both.
   */
  readonly documents: string;
  /** Settings Talos cannot express and that were safely left out. */
  readonly warnings: RenderWarning[];
  /** True when the outputs hold credentials or a client key: treat both as secret. */
  readonly secret: boolean;
}

interface HostSettings {
  path: string;
  tls: ResolvedTls;
  auth?: ResolvedCredentials;
}

interface TalosEndpoint {
  url: string;
  overridePath: boolean;
}

const API_VERSION = "v1alpha1";

/**
 * Render Talos registry configuration for a normalised registry model.
 *
 * - Per registry (`_default` → `"*"`): the mirror URLs in order, then the server URL when it is not the
 *   default upstream (`https://<name>`, Docker Hub `https://registry-1.docker.io`); `skipFallback: true`
 *   for `fallback: false` and whenever the server is listed, so that only declared endpoints are used.
 * - Classic `machine.registries.mirrors` has one `overridePath` per registry: when any endpoint has a path,
 *   it is set and every endpoint without a path gets `/v2` appended (same requests as before), so mirrors
 *   with and without a path can be mixed. The documents carry `overridePath` per endpoint.
 * - `machine.registries.config."<host[:port]>"` (and one `RegistryAuthConfig` / `RegistryTLSConfig` per
 *   host) carry `auth` (`username`/`password` or `identityToken`) and `tls` (`insecureSkipVerify`, `ca`,
 *   `clientIdentity`). The classic patch wants base64 of the PEM (`clientIdentity: { crt, key }`), the
 *   documents plain PEM (`clientIdentity: { cert, key }`).
 *
 * Dropped with a warning: headers, capabilities, push-only mirrors.
 *
 * @throws {ConfigError} for two endpoints on one host with different TLS settings or credentials (Talos
 *   keys them by host), and for `fallback: false` without a mirror that may pull.
 * @see https://docs.siderolabs.com/talos/v1.12/reference/configuration/cri/registrymirrorconfig
 * @see https://docs.siderolabs.com/talos/v1.12/reference/configuration/cri/registryauthconfig
 * @see https://docs.siderolabs.com/talos/v1.12/reference/configuration/cri/registrytlsconfig
 * @see https://www.talos.dev/v1.10/reference/configuration/v1alpha1/config/#Config.machine.registries
 */
export function renderTalosRegistries(model: RegistryModel): TalosRegistriesResult {
  const problems: Problem[] = rewriteProblems(model.registries, "Talos registry config");
  const warnings: RenderWarning[] = [];
  const hosts = new Map<string, HostSettings>();
  const classicMirrors: Record<string, { endpoints: string[]; overridePath?: true; skipFallback?: true }> =
    {};
  const mirrorDocs: Record<string, unknown>[] = [];

  const addHost = (key: string, settings: HostSettings): void => {
    if (!settings.auth && !settings.tls.ca && !settings.tls.clientCert && !settings.tls.insecureSkipVerify)
      return;
    const prior = hosts.get(key);
    if (!prior) return void hosts.set(key, settings);
    if (
      JSON.stringify([prior.tls, prior.auth ?? null]) !==
      JSON.stringify([settings.tls, settings.auth ?? null])
    ) {
      problems.push({
        path: settings.path,
        message: `endpoint host ${JSON.stringify(key)} has different TLS settings or credentials than ${prior.path}: Talos keys them by host; give both the same settings`,
      });
    }
  };

  for (const reg of model.registries) {
    const path = keyPath("registries", reg.name);
    const endpoints: TalosEndpoint[] = [];
    reg.mirrors.forEach((m, i) => {
      const mp = `${path}.mirrors[${i}]`;
      if (!m.capabilities.includes("pull") && !m.capabilities.includes("resolve")) {
        warnings.push({
          path: `${mp}.capabilities`,
          message:
            "has neither pull nor resolve, so the mirror is never used to pull: left out of the Talos config",
        });
        return;
      }
      if (m.capabilities.join(",") !== "pull,resolve") {
        warnings.push({
          path: `${mp}.capabilities`,
          message: `Talos has no per-endpoint capabilities: every mirror is used for pull and resolve; ${JSON.stringify(m.capabilities)} dropped`,
        });
      }
      const headerNames = Object.keys(m.headers);
      if (headerNames.length > 0) {
        warnings.push({
          path: `${mp}.headers`,
          message: `Talos cannot send extra HTTP headers: ${headerNames.join(", ")} dropped`,
        });
      }
      endpoints.push({ url: m.url, overridePath: m.overridePath });
      addHost(m.authority, { path: mp, tls: m.tls, ...(m.auth ? { auth: m.auth } : {}) });
    });
    let skipFallback = reg.noFallback;
    const server = reg.server;
    if (server) {
      if (server.url !== (reg.name === DOCKER_HUB ? DOCKER_HUB_SERVER : `https://${reg.name}`)) {
        endpoints.push({ url: server.url, overridePath: false });
        skipFallback = true;
      }
      if (
        server.capabilities &&
        !(server.capabilities.includes("pull") && server.capabilities.includes("resolve"))
      ) {
        warnings.push({
          path: `${path}.capabilities`,
          message: `Talos has no per-endpoint capabilities: the server is used for pull and resolve; ${JSON.stringify(server.capabilities)} dropped`,
        });
      }
      addHost(server.authority, { path, tls: server.tls, ...(server.auth ? { auth: server.auth } : {}) });
    }
    if (reg.noFallback && endpoints.length === 0) {
      problems.push({
        path: `${path}.mirrors`,
        message:
          "has no mirror that may pull, and server is false: Talos would pull from the registry itself; give a mirror pull or resolve",
      });
    }
    if (endpoints.length === 0) continue;
    const name = reg.name === DEFAULT_REGISTRY ? "*" : reg.name;
    const override = endpoints.some((e) => e.overridePath);
    classicMirrors[name] = {
      // With one overridePath per registry, "/v2" makes a path-less endpoint ask for the same URLs as before.
      endpoints: endpoints.map((e) => (override && !e.overridePath ? `${e.url}/v2` : e.url)),
      ...(override ? { overridePath: true as const } : {}),
      ...(skipFallback ? { skipFallback: true as const } : {}),
    };
    mirrorDocs.push({
      apiVersion: API_VERSION,
      kind: "RegistryMirrorConfig",
      name,
      endpoints: endpoints.map((e) => ({ url: e.url, ...(e.overridePath ? { overridePath: true } : {}) })),
      ...(skipFallback ? { skipFallback: true } : {}),
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);

  let secret = false;
  const config: Record<string, { auth?: Record<string, string>; tls?: Record<string, unknown> }> = {};
  const authDocs: Record<string, unknown>[] = [];
  const tlsDocs: Record<string, unknown>[] = [];
  for (const key of [...hosts.keys()].sort()) {
    const { tls, auth } = hosts.get(key) as HostSettings;
    const entry: { auth?: Record<string, string>; tls?: Record<string, unknown> } = {};
    if (auth) {
      secret = true;
      const fields: Record<string, string> =
        auth.kind === "basic"
          ? { username: auth.username, password: auth.password }
          : { identityToken: auth.identityToken };
      entry.auth = fields;
      authDocs.push({ apiVersion: API_VERSION, kind: "RegistryAuthConfig", name: key, ...fields });
    }
    if (tls.ca || tls.clientCert || tls.insecureSkipVerify) {
      const classic: Record<string, unknown> = {};
      const doc: Record<string, unknown> = { apiVersion: API_VERSION, kind: "RegistryTLSConfig", name: key };
      if (tls.clientCert && tls.clientKey) {
        secret = true;
        classic.clientIdentity = { crt: base64(tls.clientCert), key: base64(tls.clientKey) };
        doc.clientIdentity = { cert: tls.clientCert, key: tls.clientKey };
      }
      if (tls.ca) {
        classic.ca = base64(tls.ca);
        doc.ca = tls.ca;
      }
      if (tls.insecureSkipVerify) {
        classic.insecureSkipVerify = true;
        doc.insecureSkipVerify = true;
      }
      entry.tls = classic;
      tlsDocs.push(doc);
    }
    config[key] = entry;
  }

  const registries: Record<string, unknown> = {};
  if (Object.keys(classicMirrors).length > 0) registries.mirrors = classicMirrors;
  if (Object.keys(config).length > 0) registries.config = config;
  const machineConfigPatch = toYaml({ machine: { registries } }, false);
  const documents = [...mirrorDocs, ...authDocs, ...tlsDocs].map((d) => toYaml(d, true)).join("");
  return { machineConfigPatch, documents, warnings, secret };
}

function base64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}

/**
 * Serialise with the `yaml` library so that YAML 1.1 and 1.2 parsers read the same values: string values
 * double-quoted, PEM blocks as literal blocks, keys other than plain identifiers quoted; with `separator`,
 * the document starts with `---` so that documents can be concatenated.
 */
function toYaml(value: unknown, separator: boolean): string {
  const doc = new YAML.Document(value);
  YAML.visit(doc, {
    Scalar(key, node) {
      if (typeof node.value !== "string") return;
      if (key === "key") node.type = /^[A-Za-z_][A-Za-z0-9_]*$/.test(node.value) ? "PLAIN" : "QUOTE_DOUBLE";
      else node.type = node.value.startsWith("-----BEGIN ") ? "BLOCK_LITERAL" : "QUOTE_DOUBLE";
    },
  });
  return doc.toString({ lineWidth: 0, directives: separator });
}
