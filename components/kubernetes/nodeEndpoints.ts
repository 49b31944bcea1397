/**
 * How nodes reach what runs in the cluster: the registry declaration entries that point nodes' runtimes at the
 * hosted registry, the caches and zot, through a node port.
 *
 * @module
 */
import { ClusterModel, RegistryServer, ServiceType } from "../model/cluster";
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

/**
 * Where each in-cluster server is reached, keyed as `clusterManifests` keys its objects (`registry`,
 * `cache/<upstream>`, `zot`): `<nodeAddress>:<nodePort>` for a NodePort Service (every node answers; without a
 * node address, `localhost:<nodePort>`, which is what a node itself uses, as MicroK8s publishes its addon), and
 * `<name>.<namespace>.svc:<port>` for a ClusterIP Service (from Pods only: nodes resolve names with their own
 * resolver, not the cluster's DNS).
 */
export function clusterEndpoints(cluster: ClusterModel, nodeAddress?: string): Record<string, string> {
  const out: Record<string, string> = {};
  const endpoint = (s: RegistryServer) =>
    s.service.type === ServiceType.NodePort
      ? `${nodeAddress ?? "localhost"}:${s.service.nodePort}`
      : `${s.name}.${s.namespace}.svc:${s.service.port}`;
  if (cluster.registry) out.registry = endpoint(cluster.registry);
  for (const c of cluster.caches) out[`cache/${c.proxy?.upstream ?? c.name}`] = endpoint(c);
  if (cluster.zot) out.zot = endpoint(cluster.zot);
  return out;
}
