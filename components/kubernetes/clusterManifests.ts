/**
 * Every Kubernetes object of the cluster side of a declaration, each with a stable key.
 *
 * @module
 */
import { ClusterModel } from "../model/cluster";
import { RegistryModel } from "../model/types";
import { RenderWarning } from "../render/types";
import { localRegistryHostingObject } from "./localRegistryHosting";
import { KubeObject, Manifest, namespaceObject } from "./objects";
import { pullSecretObjects } from "./pullSecrets";
import { distributionObjects, RegistryServerObjects, zotObjects } from "./registryServer";

/** What {@link clusterManifests} returns. */
export interface ClusterManifests {
  /** Namespaces first, then each server's claim, config, Deployment and Service, then the rest. */
  readonly manifests: Manifest[];
  /** From the config renderers. */
  readonly warnings: RenderWarning[];
}

/**
 * Build every object of a normalised cluster side. Keys (names for the Pulumi layer's children; never list
 * positions): `namespace/<ns>`, `registry/<part>`, `cache/<upstream>/<part>`, `zot/<part>` (part: `claim`,
 * `config`, `deployment`, `service`), `local-registry-hosting`, `pull-secret/<ns>`.
 *
 * The registries' namespaces are always created; the pull Secrets' only with `createNamespaces` (one Namespace
 * object per name either way). ServiceAccounts are not objects here: see `imagePullSecrets.ts`.
 *
 * @throws {ConfigError} from the renderers (e.g. pull Secrets without credentials).
 */
export function clusterManifests(cluster: ClusterModel, registries: RegistryModel): ClusterManifests {
  const manifests: Manifest[] = [];
  const warnings: RenderWarning[] = [];
  const namespaces = new Set<string>();
  const servers: [string, RegistryServerObjects][] = [];

  if (cluster.registry) {
    namespaces.add(cluster.registry.namespace);
    servers.push(["registry", distributionObjects(cluster.registry)]);
  }
  for (const c of cluster.caches) {
    namespaces.add(c.namespace);
    servers.push([`cache/${c.proxy?.upstream ?? c.name}`, distributionObjects(c)]);
  }
  if (cluster.zot) {
    namespaces.add(cluster.zot.namespace);
    servers.push(["zot", zotObjects(cluster.zot)]);
  }
  if (cluster.pullSecrets?.createNamespaces) cluster.pullSecrets.namespaces.forEach((n) => namespaces.add(n));

  const add = (key: string, object: KubeObject, secret = false) => manifests.push({ key, object, secret });
  for (const ns of [...namespaces].sort()) add(`namespace/${ns}`, namespaceObject(ns));
  for (const [prefix, objs] of servers) {
    add(`${prefix}/claim`, objs.claim);
    add(`${prefix}/config`, objs.config);
    add(`${prefix}/deployment`, objs.deployment);
    add(`${prefix}/service`, objs.service);
    warnings.push(...objs.warnings);
  }
  if (cluster.localRegistryHosting) {
    add("local-registry-hosting", localRegistryHostingObject(cluster.localRegistryHosting));
  }
  if (cluster.pullSecrets) {
    for (const secret of pullSecretObjects(cluster.pullSecrets, registries)) {
      add(`pull-secret/${secret.metadata.namespace}`, secret, true);
    }
  }
  return { manifests, warnings };
}
