/**
 * How nodes reach what runs in the cluster: the registry declaration entries that point nodes' runtimes at the
 * hosted registry, the caches and zot, through a node port.
 *
 * @module
 */
import { ClusterModel, ServiceType } from "../model/cluster";
import { MirrorArgs, RegistryArgs } from "../model/types";
import { zotNamespace } from "../render/zotConfig";

/**
 * Registry declaration entries that make nodes use the in-cluster servers reachable at `nodeAddress` (an IP
 * or host name of a node; every node answers on a NodePort):
 *
 * - the hosted registry without TLS: `"<nodeAddress>:<nodePort>": { plainHttp: true }`;
 * - each cache: a mirror `http(s)://<nodeAddress>:<nodePort>` of its upstream;
 * - zot: for each upstream a path mirror `http://<nodeAddress>:<nodePort>/v2/<namespace>` with `overridePath`.
 *
 * ClusterIP servers are left out: a node's runtime resolves names with the node's resolver, not the cluster's
 * DNS. A TLS server's CA is not known here: add `tls.ca` to the entry. Merge the result into the declaration
 * (mirrors first, so the cache is tried before the upstream).
 */
export function nodeRegistryEntries(
  cluster: ClusterModel,
  nodeAddress: string,
): Record<string, RegistryArgs> {
  const out: Record<string, RegistryArgs> = {};
  const reg = cluster.registry;
  if (reg && reg.service.type === ServiceType.NodePort && !reg.tls) {
    out[`${nodeAddress}:${reg.service.nodePort}`] = { plainHttp: true };
  }
  const mirror = (name: string, m: MirrorArgs) => {
    out[name] = { mirrors: [...(out[name]?.mirrors ?? []), m] };
  };
  for (const c of cluster.caches) {
    if (c.service.type !== ServiceType.NodePort || !c.proxy) continue;
    mirror(c.proxy.upstream, {
      endpoint: `${c.tls ? "https" : "http"}://${nodeAddress}:${c.service.nodePort}`,
    });
  }
  const zot = cluster.zot;
  if (zot && zot.service.type === ServiceType.NodePort) {
    for (const u of zot.upstreams) {
      mirror(u.name, {
        endpoint: `http://${nodeAddress}:${zot.service.nodePort}/v2/${zotNamespace(u.name)}`,
        overridePath: true,
      });
    }
  }
  return out;
}
