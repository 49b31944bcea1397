/**
 * Builder of the KEP-1755 `local-registry-hosting` ConfigMap in `kube-public`.
 *
 * @module
 */
import { LocalRegistryHosting } from "../model/cluster";
import {
  LOCAL_REGISTRY_HOSTING_KEY,
  LOCAL_REGISTRY_HOSTING_NAME,
  LOCAL_REGISTRY_HOSTING_NAMESPACE,
  renderLocalRegistryHosting,
} from "../render/localRegistryHosting";
import { KubeObject, PART_OF } from "./objects";

/**
 * The `local-registry-hosting` ConfigMap (namespace `kube-public`, which exists in every cluster and is
 * readable by all, so the library never creates or deletes it).
 */
export function localRegistryHostingObject(lrh: LocalRegistryHosting): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: LOCAL_REGISTRY_HOSTING_NAME,
      namespace: LOCAL_REGISTRY_HOSTING_NAMESPACE,
      labels: { "app.kubernetes.io/part-of": PART_OF },
    },
    data: { [LOCAL_REGISTRY_HOSTING_KEY]: renderLocalRegistryHosting(lrh) },
  };
}
