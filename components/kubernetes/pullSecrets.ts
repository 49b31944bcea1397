/**
 * Builders of the pull Secrets (`kubernetes.io/dockerconfigjson`, several registries merged in one) and of the
 * namespaces they may create.
 *
 * @module
 */
import { PullSecrets } from "../model/cluster";
import { ConfigError } from "../model/errors";
import { RegistryModel } from "../model/types";
import { renderDockerConfigJson } from "../render/dockerConfigJson";
import { KubeObject, PART_OF } from "./objects";

/** The Secret type the kubelet reads image pull credentials from. */
export const DOCKER_CONFIG_JSON_TYPE = "kubernetes.io/dockerconfigjson";

/**
 * The `.dockerconfigjson` of the pull Secrets: the credentials of the chosen registries (their servers and
 * their mirrors' hosts) merged in one document, as {@link renderDockerConfigJson} renders it. Secret.
 *
 * @throws {ConfigError} when the chosen registries have no credentials, or two of them need different
 *   credentials for one host.
 */
export function pullSecretPayload(ps: PullSecrets, model: RegistryModel): string {
  const chosen = { registries: model.registries.filter((r) => ps.registries.includes(r.name)) };
  const json = renderDockerConfigJson(chosen);
  if (json === undefined) {
    throw new ConfigError([
      {
        path: "cluster.pullSecrets.registries",
        message: `none of ${JSON.stringify(ps.registries)} has credentials in the registry declaration: nothing to put in the Secret`,
      },
    ]);
  }
  return json;
}

/**
 * One `kubernetes.io/dockerconfigjson` Secret per namespace, the payload base64-encoded in `data` (the form
 * the API server stores and returns, so a diff compares like with like). Every returned object is secret.
 */
export function pullSecretObjects(ps: PullSecrets, model: RegistryModel): KubeObject[] {
  const payload = Buffer.from(pullSecretPayload(ps, model), "utf8").toString("base64");
  return ps.namespaces.map((namespace) => ({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: ps.name, namespace, labels: { "app.kubernetes.io/part-of": PART_OF } },
    type: DOCKER_CONFIG_JSON_TYPE,
    data: { ".dockerconfigjson": payload },
  }));
}
