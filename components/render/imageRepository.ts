/**
 * The "image repository" form of a mirror, shared by kubeadm (`imageRepository`) and k0s
 * (`spec.images.repository`): both rename their system images to `<repository>/<path>` instead of letting the
 * container runtime pick a mirror, so only one mirror can be named and nothing falls back to the upstream.
 *
 * @module
 * @internal
 */
import { keyPath, Problem } from "../model/errors";
import { RegistryModel } from "../model/types";
import { RenderWarning } from "./types";

/** A repository derived from a registry's first pull mirror. @internal */
export interface MirrorRepository {
  /** `host[:port][/namespace]`, or undefined when the registry has no pull mirror. */
  repository?: string;
  warnings: RenderWarning[];
  problems: Problem[];
}

/**
 * The repository that stands for `registry`'s first pull mirror: its `host[:port]`, plus `/<namespace>` for a
 * `/v2/<namespace>` path mirror.
 *
 * @param tool how messages name the setting, e.g. `kubeadm imageRepository`.
 * @internal
 */
export function mirrorRepository(model: RegistryModel, registry: string, tool: string): MirrorRepository {
  const out: MirrorRepository = { warnings: [], problems: [] };
  const reg = model.registries.find((r) => r.name === registry);
  if (!reg) return out;
  const path = keyPath("registries", registry);
  const index = reg.mirrors.findIndex((m) => m.capabilities.includes("pull"));
  if (index < 0) return out;
  const m = reg.mirrors[index];
  const mp = `${path}.mirrors[${index}]`;
  if (m.path !== "" && !m.namespace) {
    out.problems.push({
      path: `${mp}.endpoint`,
      message: `${JSON.stringify(m.url)}: ${tool} names a repository host[:port][/namespace], so the mirror path must be empty or "/v2/<namespace>"`,
    });
    return out;
  }
  if (m.rewrite) {
    out.problems.push({
      path: `${mp}.rewrite`,
      message: `${tool} cannot rewrite repository paths: the system images would be fetched from ${JSON.stringify(m.url)} unchanged; drop the rewrite or lay the mirror out like ${registry}`,
    });
    return out;
  }
  const repository = m.namespace ? `${m.authority}/${m.namespace}` : m.authority;
  out.warnings.push({
    path: mp,
    message: `${tool} renames the images to ${repository}/…: only this mirror is used for them, with no fallback to ${registry} and none to later mirrors`,
  });
  // The runtime now pulls "<mirror host>/…" as a registry of its own: TLS, credentials and plain HTTP apply only
  // if the declaration has an entry for that host (which the node files then carry).
  const own = model.registries.find((r) => r.name === m.authority);
  const needs: string[] = [];
  if (m.scheme === "http" && own?.server?.scheme !== "http") needs.push("plainHttp: true");
  if (m.tls.ca && !own?.server?.tls.ca) needs.push("tls.ca");
  if (m.tls.clientCert && !own?.server?.tls.clientCert) needs.push("tls.clientCert/clientKey");
  if (m.tls.insecureSkipVerify && !own?.server?.tls.insecureSkipVerify) needs.push("tls.insecureSkipVerify");
  if (m.auth && !own?.server?.auth) needs.push("auth");
  if (Object.keys(m.headers).length > 0) needs.push("(headers cannot be carried over)");
  if (needs.length > 0) {
    out.warnings.push({
      path: mp,
      message: `the runtime now pulls from ${m.authority} as a registry of its own: declare registry ${JSON.stringify(m.authority)} with ${needs.join(", ")} so that the nodes' files carry it`,
    });
  }
  return { ...out, repository };
}
