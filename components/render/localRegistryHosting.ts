/**
 * Renderer of the KEP-1755 `localRegistryHosting.v1` document: the value of the `local-registry-hosting`
 * ConfigMap in `kube-public`, which tells dev tools (Tilt, Skaffold, ctlptl) where a cluster's registry is.
 *
 * @module
 */
import * as YAML from "yaml";
import { LocalRegistryHosting } from "../model/cluster";

/** The ConfigMap's name (KEP-1755). */
export const LOCAL_REGISTRY_HOSTING_NAME = "local-registry-hosting";
/** The ConfigMap's namespace (KEP-1755). */
export const LOCAL_REGISTRY_HOSTING_NAMESPACE = "kube-public";
/** The data key of the version-1 document (KEP-1755). */
export const LOCAL_REGISTRY_HOSTING_KEY = "localRegistryHosting.v1";

/**
 * Render the `localRegistryHosting.v1` YAML document: `host`, `hostFromContainerRuntime`,
 * `hostFromClusterNetwork` and, when given, `help`, in the KEP's order, every value double-quoted (a
 * `host:port` must stay a string for every YAML reader).
 *
 * @see https://github.com/kubernetes/enhancements/tree/master/keps/sig-cluster-lifecycle/generic/1755-communicating-a-local-registry
 */
export function renderLocalRegistryHosting(lrh: LocalRegistryHosting): string {
  const doc: Record<string, string> = {
    host: lrh.host,
    hostFromContainerRuntime: lrh.hostFromContainerRuntime,
    hostFromClusterNetwork: lrh.hostFromClusterNetwork,
  };
  if (lrh.help) doc.help = lrh.help;
  const y = new YAML.Document(doc);
  YAML.visit(y, {
    Scalar(key, node) {
      if (key !== "key") node.type = "QUOTE_DOUBLE";
    },
  });
  return y.toString({ lineWidth: 0 });
}
