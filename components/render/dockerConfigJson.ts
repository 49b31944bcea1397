/**
 * Renderer of a `.dockerconfigjson` (the payload of a `kubernetes.io/dockerconfigjson` Secret and of the
 * kubelet's `/var/lib/kubelet/config.json`).
 *
 * @module
 */
import { ConfigError, keyPath, Problem } from "../model/errors";
import {
  ResolvedCredentials,
  DEFAULT_REGISTRY,
  DOCKER_HUB,
  DOCKER_HUB_AUTH_KEY,
  DOCKER_HUB_SERVER,
  RegistryModel,
} from "../model/types";

/** Options of {@link renderDockerConfigJson}. */
export interface DockerConfigJsonOptions {
  /**
   * Also key credentials by every endpoint host other than the registry name: each mirror's
   * `host[:port]`, and the server's when it is on another host. containers/image (CRI-O, podman, skopeo)
   * looks credentials up by the host it contacts, not by the image's registry. Defaults to `true`.
   */
  mirrors?: boolean;
}

/** The username Docker tools store with an identity token (docker-py `TOKEN_USERNAME`, credential helpers). */
const TOKEN_USERNAME = "<token>";

/**
 * Render a `.dockerconfigjson`: `{"auths":{"<key>":{"auth":"…","password":"…","username":"…"}}}`.
 *
 * - Keys: the registry name for its server's credentials (Docker Hub: `https://index.docker.io/v1/`);
 *   with {@link DockerConfigJsonOptions.mirrors} also each mirror's `host[:port]` (including mirrors of
 *   `_default`, which has no key of its own) and a server on another host.
 * - Basic credentials carry `username`, `password` and `auth` = base64(`user:password`): containers/image
 *   reads only `auth`, Docker and the kubelet read either.
 * - An identity token is written as Docker stores one: `identitytoken` plus `auth` = base64(`<token>:`).
 *   containers/image ignores an entry whose `auth` has no `:`, so `auth` is required. The kubelet does not
 *   read `identitytoken`: such a Secret helps Docker and CRI-O hosts, not Pod pulls through the kubelet.
 * - Compact JSON with sorted keys and no trailing newline, like `kubectl create secret docker-registry`.
 *   The result is secret.
 *
 * @returns the JSON text, or `undefined` when no registry or mirror has credentials.
 * @throws {ConfigError} when two endpoints with the same key have different credentials (one key holds
 *   one credential). Credentials are never part of the message.
 * @see https://kubernetes.io/docs/concepts/configuration/secret/#docker-config-secrets
 * @see https://github.com/containers/image/blob/main/docs/containers-auth.json.5.md
 */
export function renderDockerConfigJson(
  model: RegistryModel,
  opts: DockerConfigJsonOptions = {},
): string | undefined {
  const withMirrors = opts.mirrors ?? true;
  const problems: Problem[] = [];
  const entries = new Map<string, { path: string; auth: ResolvedCredentials }>();
  const add = (key: string, path: string, auth: ResolvedCredentials | undefined): void => {
    if (!auth) return;
    const prior = entries.get(key);
    if (!prior) return void entries.set(key, { path, auth });
    if (JSON.stringify(prior.auth) !== JSON.stringify(auth)) {
      problems.push({
        path,
        message: `credentials for ${JSON.stringify(key)} differ from those at ${prior.path}: a .dockerconfigjson holds one credential per host; use the same credentials or drop one`,
      });
    }
  };

  for (const reg of model.registries) {
    const path = keyPath("registries", reg.name);
    if (reg.server && reg.name !== DEFAULT_REGISTRY) {
      add(reg.name === DOCKER_HUB ? DOCKER_HUB_AUTH_KEY : reg.name, `${path}.auth`, reg.server.auth);
      const defaultHost = reg.name === DOCKER_HUB ? new URL(DOCKER_HUB_SERVER).host : reg.name;
      if (withMirrors && reg.server.authority !== defaultHost) {
        add(reg.server.authority, `${path}.auth`, reg.server.auth);
      }
    }
    if (!withMirrors) continue;
    reg.mirrors.forEach((m, i) => add(m.authority, `${path}.mirrors[${i}].auth`, m.auth));
  }
  if (problems.length > 0) throw new ConfigError(problems);
  if (entries.size === 0) return undefined;

  const auths: Record<string, Record<string, string>> = {};
  for (const key of [...entries.keys()].sort()) {
    const { auth } = entries.get(key) as { auth: ResolvedCredentials };
    auths[key] = dockerAuthEntry(auth);
  }
  return JSON.stringify({ auths });
}

/**
 * One `auths` entry of a Docker config file for a credential (keys sorted): `auth`, `password`, `username`
 * for Basic credentials; `auth` (= base64 of `<token>:`) and `identitytoken` for an identity token.
 * @internal
 */
export function dockerAuthEntry(auth: ResolvedCredentials): Record<string, string> {
  return auth.kind === "basic"
    ? {
        auth: base64(`${auth.username}:${auth.password}`),
        password: auth.password,
        username: auth.username,
      }
    : { auth: base64(`${TOKEN_USERNAME}:`), identitytoken: auth.identityToken };
}

function base64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}
