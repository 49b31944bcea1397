/**
 * `InClusterRegistries`: the hosted registry, the pull-through caches, zot and the KEP-1755 ConfigMap of a cluster,
 * as `@pulumi/kubernetes` resources.
 *
 * @module
 */
import * as pulumi from "@pulumi/pulumi";
import { clusterManifests } from "../kubernetes/clusterManifests";
import { clusterEndpoints } from "../kubernetes/nodeEndpoints";
import { Manifest } from "../kubernetes/objects";
import { ClusterModel } from "../model/cluster";
import { RegistryModel } from "../model/types";
import { renderLocalRegistryHosting } from "../render/localRegistryHosting";
import { declareManifests } from "./kubeObjects";
import { NodeWarning } from "./node";

/** Arguments of {@link InClusterRegistries}: the cluster side, already validated and normalised. */
export interface InClusterRegistriesArgs {
  /** The cluster side as known at construction: decides which resources exist. */
  readonly structure: ClusterModel;
  /** The cluster side and the registry declaration once every value is known: what the resources hold. */
  readonly content: pulumi.Output<{ cluster: ClusterModel; registries: RegistryModel }>;
  /** The address nodes reach NodePort Services at (any node's); `localhost` when absent. */
  readonly nodeAddress?: string;
}

/** The cluster side without its pull Secrets (they belong to `ClusterPullSecrets`). */
export function serversOnly(cluster: ClusterModel): ClusterModel {
  return { ...cluster, pullSecrets: undefined, sideLoads: [] };
}

/** Whether a cluster side declares anything this component makes. */
export function hasServers(cluster: ClusterModel): boolean {
  return cluster.registry !== undefined || cluster.caches.length > 0 || cluster.zot !== undefined;
}

/**
 * The servers a cluster runs for its own nodes: for the hosted registry, each cache and zot, a
 * PersistentVolumeClaim, a ConfigMap with the rendered config, a Deployment and a Service (NodePort or
 * ClusterIP); their Namespaces; and the KEP-1755 `local-registry-hosting` ConfigMap in `kube-public`. One
 * `@pulumi/kubernetes` resource per object, named `${name}-${key}` after `clusterManifests`' stable keys
 * (`namespace/<ns>`, `registry/deployment`, `cache/docker.io/service`, …); the Kubernetes provider comes from
 * the resource options (`provider` / `providers`), so a program can target any cluster.
 *
 * Destroy deletes every object, the Namespaces with them, and the claims: what the registries stored is gone
 * unless the StorageClass retains volumes.
 */
export class InClusterRegistries extends pulumi.ComponentResource {
  /**
   * Where each server is reached, keyed `registry`, `cache/<upstream>`, `zot`: `host:port` for a NodePort
   * Service, `<name>.<namespace>.svc:<port>` for a ClusterIP one.
   */
  public readonly endpoints: pulumi.Output<Record<string, string>>;
  /** The KEP-1755 `localRegistryHosting.v1` document published in `kube-public`, if declared. */
  public readonly localRegistryHosting: pulumi.Output<string | undefined>;
  /** What the servers' config renderers left out. */
  public readonly warnings: pulumi.Output<NodeWarning[]>;

  /**
   * @param name the component's name; children are `${name}-${key}`.
   * @param args the validated cluster side.
   * @param opts resource options (`provider`/`providers` pick the cluster).
   */
  constructor(name: string, args: InClusterRegistriesArgs, opts?: pulumi.ComponentResourceOptions) {
    // The type token never changes once released: a new token is a new resource type (everything replaced).
    super("registry-setup:index:InClusterRegistries", name, {}, opts);
    const structure = clusterManifests(serversOnly(args.structure), { registries: [] }).manifests;
    const built = args.content.apply((c) => clusterManifests(serversOnly(c.cluster), c.registries));
    const content: pulumi.Output<readonly Manifest[]> = built.apply((b) => b.manifests);
    // A component's dependsOn is not inherited by its children: it must reach each object.
    const resources = declareManifests(this, name, structure, content, new Map(), opts?.dependsOn);
    // Not an output (a plain Record of resources would leak into the schema): kept for RegistrySetup's wiring.
    NAMESPACES.set(this, new Map([...resources].filter(([k]) => k.startsWith("namespace/"))));

    this.endpoints = pulumi.output(clusterEndpoints(args.structure, args.nodeAddress));
    this.localRegistryHosting = pulumi.unsecret(
      args.content.apply((c) =>
        c.cluster.localRegistryHosting
          ? renderLocalRegistryHosting(c.cluster.localRegistryHosting)
          : undefined,
      ),
    );
    this.warnings = pulumi.unsecret(
      built.apply((b) => b.warnings.map((w) => ({ path: w.path, message: w.message }))),
    );
    this.registerOutputs({
      endpoints: this.endpoints,
      localRegistryHosting: this.localRegistryHosting,
      warnings: this.warnings,
    });
  }
}

const NAMESPACES = new WeakMap<InClusterRegistries, Map<string, pulumi.Resource>>();

/** The Namespace resources an `InClusterRegistries` declared, by key `namespace/<ns>`. */
export function namespacesOf(c: InClusterRegistries | undefined): Map<string, pulumi.Resource> {
  return (c && NAMESPACES.get(c)) ?? new Map();
}
