/**
 * Renderer of the `registryMirrors` section of a Google Distributed Cloud (Anthos clusters on bare metal)
 * cluster configuration file, and of the CA and Docker config files it points to.
 *
 * @module
 */
import * as YAML from "yaml";
import { ConfigError, keyPath, Problem } from "../model/errors";
import { ResolvedCredentials, DEFAULT_REGISTRY, ResolvedMirror, RegistryModel } from "../model/types";
import { dockerAuthEntry } from "./dockerConfigJson";
import { sanitizeAuthority } from "./registriesYaml";
import { checkCertsDir, modeFor, RenderedFile, RenderWarning, rewriteProblems } from "./types";

/** Options of {@link renderAnthosRegistryMirrors}. */
export interface AnthosRegistryMirrorsOptions {
  /**
   * Absolute directory on the admin workstation (where `bmctl` runs) for the CA and Docker config files:
   * `<certsDir>/<host[_port]>/ca.crt` and `config.json`. Defaults to `/root/registry-mirrors`.
   */
  certsDir?: string;
}

/** What {@link renderAnthosRegistryMirrors} returns. */
export interface AnthosRegistryMirrors {
  /** A YAML document with the `registryMirrors` list (to merge into the cluster configuration file). */
  readonly content: string;
  /** CA files (0644) and Docker config files (secret, 0600) the entries point to. */
  readonly files: RenderedFile[];
  /** What `registryMirrors` cannot express and was left out. */
  readonly warnings: RenderWarning[];
}

interface Entry {
  path: string;
  mirror: ResolvedMirror;
  hosts: string[];
}

/**
 * Render `registryMirrors`: one entry per mirror endpoint, with the registries it mirrors as `hosts`.
 *
 * - `endpoint`: the mirror's URL; a namespace only as `/v2/<namespace>` (Google: "The /v2 is required when
 *   specifying a namespace").
 * - `caCertPath`: the mirror's CA; `pullCredentialConfigPath`: a Docker `config.json` with the mirror's
 *   credentials keyed by its `host[:port]`.
 * - `hosts`: the registry names it mirrors, sorted.
 *
 * Errors: `fallback: false` (Google's nodes fall back to the public registry when the mirror does not have an
 * image; there is no way to forbid it), a mirror path other than `/v2/<namespace>`, one endpoint declared
 * with different TLS or credentials, and rewrites.
 * Warnings (left out): `_default` (hosts are domain names; there is no wildcard), headers, capabilities,
 * client certificates, skip-verify, the upstream server's own TLS or credentials (that is `privateRegistries`,
 * not rendered), several mirrors of one registry (the order in which they are tried is not documented), and
 * plain-HTTP endpoints (Google's documentation shows only `https://` ones).
 *
 * @see https://cloud.google.com/kubernetes-engine/distributed-cloud/bare-metal/docs/installing/registry-mirror
 */
export function renderAnthosRegistryMirrors(
  model: RegistryModel,
  opts: AnthosRegistryMirrorsOptions = {},
): AnthosRegistryMirrors {
  const certsDir = checkCertsDir(opts.certsDir ?? "/root/registry-mirrors", "/root/registry-mirrors");
  const problems: Problem[] = rewriteProblems(model.registries, "Anthos registryMirrors");
  const warnings: RenderWarning[] = [];
  const entries = new Map<string, Entry>();

  for (const reg of model.registries) {
    const path = keyPath("registries", reg.name);
    if (reg.name === DEFAULT_REGISTRY) {
      if (reg.mirrors.length > 0) {
        warnings.push({
          path: `${path}.mirrors`,
          message: `registryMirrors hosts are domain names and have no wildcard: the ${DEFAULT_REGISTRY} mirrors are left out`,
        });
      }
      continue;
    }
    if (reg.noFallback) {
      problems.push({
        path: `${path}.fallback`,
        message:
          "false (no fallback) cannot be expressed in registryMirrors: nodes pull from the public registry when the mirror fails or lacks an image; drop fallback: false",
      });
    }
    if (reg.server && (reg.server.auth || reg.server.tls.ca || reg.server.tls.clientCert)) {
      warnings.push({
        path,
        message:
          "registryMirrors carries only the mirrors' CA and credentials: the registry's own tls/auth are left out (Google's privateRegistries section carries them)",
      });
    }
    const pulling = reg.mirrors.filter(
      (m) => m.capabilities.includes("pull") || m.capabilities.includes("resolve"),
    );
    if (pulling.length > 1) {
      warnings.push({
        path: `${path}.mirrors`,
        message: `${reg.name} has ${pulling.length} mirrors: Google does not document the order in which several mirrors of one host are tried`,
      });
    }
    reg.mirrors.forEach((m, i) => {
      const mp = `${path}.mirrors[${i}]`;
      if (!pulling.includes(m)) {
        warnings.push({ path: `${mp}.capabilities`, message: "has neither pull nor resolve: left out" });
        return;
      }
      if (m.path !== "" && !m.namespace) {
        problems.push({
          path: `${mp}.endpoint`,
          message: `${JSON.stringify(m.url)}: registryMirrors takes a namespace only as "/v2/<namespace>"; use such a path or none`,
        });
        return;
      }
      dropped(m, mp, warnings);
      const prior = entries.get(m.url);
      if (!prior) {
        entries.set(m.url, { path: mp, mirror: m, hosts: [reg.name] });
        return;
      }
      if (JSON.stringify([prior.mirror.tls.ca, prior.mirror.auth]) !== JSON.stringify([m.tls.ca, m.auth])) {
        problems.push({
          path: mp,
          message: `endpoint ${JSON.stringify(m.url)} has another CA or other credentials than ${prior.path}: one registryMirrors entry has one of each; give both the same`,
        });
        return;
      }
      prior.hosts.push(reg.name);
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const files = new Map<string, RenderedFile>();
  const list = [...entries.values()].map((e) => {
    const m = e.mirror;
    const dir = `${certsDir}/${sanitizeAuthority(m.authority)}`;
    const item: Record<string, unknown> = { endpoint: m.url };
    if (m.tls.ca) {
      item.caCertPath = `${dir}/ca.crt`;
      files.set(item.caCertPath as string, {
        path: item.caCertPath as string,
        content: m.tls.ca,
        mode: modeFor(false),
        secret: false,
      });
    }
    if (m.auth) {
      item.pullCredentialConfigPath = `${dir}/config.json`;
      const content = dockerConfig(m.authority, m.auth);
      const prior = files.get(item.pullCredentialConfigPath as string);
      if (prior && prior.content !== content) {
        throw new ConfigError([
          {
            path: e.path,
            message: `another endpoint on ${JSON.stringify(m.authority)} has other credentials: ${dir}/config.json holds one`,
          },
        ]);
      }
      files.set(item.pullCredentialConfigPath as string, {
        path: item.pullCredentialConfigPath as string,
        content,
        mode: modeFor(true),
        secret: true,
      });
    }
    item.hosts = [...e.hosts].sort();
    return item;
  });
  const content = list.length === 0 ? "registryMirrors: []\n" : toYaml({ registryMirrors: list });
  const sorted = [...files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { content, files: sorted, warnings };
}

function dropped(m: ResolvedMirror, mp: string, warnings: RenderWarning[]): void {
  if (m.scheme === "http") {
    warnings.push({
      path: `${mp}.endpoint`,
      message:
        "Google's documentation shows only https:// registryMirrors endpoints: check that plain HTTP works for your version",
    });
  }
  const headers = Object.keys(m.headers);
  if (headers.length > 0) {
    warnings.push({
      path: `${mp}.headers`,
      message: `registryMirrors cannot send extra HTTP headers: ${headers.join(", ")} dropped`,
    });
  }
  if (m.capabilities.join(",") !== "pull,resolve") {
    warnings.push({
      path: `${mp}.capabilities`,
      message: `registryMirrors has no capabilities: ${JSON.stringify(m.capabilities)} dropped`,
    });
  }
  if (m.tls.clientCert) {
    warnings.push({
      path: `${mp}.tls.clientCert`,
      message: "registryMirrors has no client certificate: mutual TLS dropped",
    });
  }
  if (m.tls.insecureSkipVerify) {
    warnings.push({
      path: `${mp}.tls.insecureSkipVerify`,
      message: "registryMirrors cannot skip certificate verification: give the mirror's CA instead",
    });
  }
}

function dockerConfig(authority: string, auth: ResolvedCredentials): string {
  return JSON.stringify({ auths: { [authority]: dockerAuthEntry(auth) } });
}

function toYaml(value: unknown): string {
  const doc = new YAML.Document(value);
  YAML.visit(doc, {
    Scalar(key, node) {
      if (typeof node.value === "string" && key !== "key") node.type = "QUOTE_DOUBLE";
    },
  });
  return doc.toString({ lineWidth: 0 });
}
