/**
 * `ClusterRegistries`: the registry configuration of every node of a cluster, rolled out so that services
 * never restart on all nodes at once.
 *
 * @module
 */
import * as pulumi from "@pulumi/pulumi";
import { Problems, show } from "../model/errors";
import { RenderWarning } from "../render/types";
import { ApplySettings, checkAtConstruction, NodeArgs, NodeRegistries } from "./nodeRegistries";
import { ApplySummary } from "./summary";

/** Arguments of {@link ClusterRegistries}. */
export interface ClusterRegistriesArgs extends ApplySettings {
  /** The nodes (at least one); names must be unique. */
  nodes: NodeArgs[];
  /**
   * How many nodes whose change may restart a service are applied at the same time; the next batch starts only
   * when the previous one succeeded. Nodes whose changes never restart anything (e.g. MicroK8s ≥1.23 with
   * `hosts.toml` only) are all applied in parallel. Defaults to 1.
   */
  maxUnavailable?: number;
}

/**
 * Applies one registry declaration to many nodes: one {@link NodeRegistries} (one SSH session) per node.
 * Nodes that may restart a service roll in batches of `maxUnavailable` (each batch `dependsOn` the previous
 * one); the others go in parallel.
 *
 * @example
 * new ClusterRegistries("staging", {
 *   nodes: ["10.0.0.11", "10.0.0.12", "10.0.0.13"].map((host, i) => ({
 *     name: `node${i + 1}`, connection: { host, user: "root", privateKey }, profiles: { kind: "microk8s" },
 *   })),
 *   registries: { "docker.io": { mirrors: ["http://10.0.0.5:5000"] } },
 * });
 */
export class ClusterRegistries extends pulumi.ComponentResource {
  /** The per-node components, keyed by node name. */
  public readonly nodes: Record<string, NodeRegistries>;
  /** Each node's summary, keyed by node name. */
  public readonly summaries: pulumi.Output<Record<string, ApplySummary | undefined>>;
  /** What the nodes' formats could not express, keyed by node name (only nodes with warnings). */
  public readonly warnings: pulumi.Output<Record<string, RenderWarning[]>>;
  /** The rollout batches of nodes that may restart a service, by node name, in order. */
  public readonly batches: string[][];

  /**
   * @param name the component's name; each node's child is `${name}-${node.name}`.
   * @param args the nodes, the registries and the rollout settings.
   * @param opts resource options.
   */
  constructor(name: string, args: ClusterRegistriesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("registry-setup:node:ClusterRegistries", name, {}, opts);
    const problems = new Problems();
    const maxUnavailable = args.maxUnavailable ?? 1;
    if (!Number.isInteger(maxUnavailable) || maxUnavailable < 1) {
      problems.add("maxUnavailable", `${show(maxUnavailable)} must be a whole number of at least 1`);
    }
    if (!Array.isArray(args.nodes) || args.nodes.length === 0)
      problems.add("nodes", "must list at least one node");
    const seen = new Map<string, number>();
    (args.nodes ?? []).forEach((n, i) => {
      const prior = seen.get(n?.name);
      if (prior !== undefined)
        problems.add(
          `nodes[${i}].name`,
          `${show(n.name)} is also the name of nodes[${prior}]: node names must be unique`,
        );
      else seen.set(n?.name, i);
    });
    if (problems.count > 0) {
      try {
        problems.throwIfAny();
      } catch (e) {
        throw new pulumi.ResourceError((e as Error).message, this);
      }
    }

    this.nodes = {};
    this.batches = [];
    const { nodes: _nodes, maxUnavailable: _max, ...settings } = args;
    let previous: NodeRegistries[] = [];
    let current: NodeRegistries[] = [];
    // The cluster's own dependsOn must reach every node's command (a component's is not inherited).
    const ownDeps = opts?.dependsOn;
    args.nodes.forEach((node, i) => {
      let rolls: boolean;
      try {
        rolls = checkAtConstruction({ ...settings, node }, `nodes[${i}]`).mayRestart;
      } catch (e) {
        throw new pulumi.ResourceError((e as Error).message, this);
      }
      if (rolls && current.length === maxUnavailable) {
        previous = current;
        current = [];
      }
      const child = new NodeRegistries(
        `${name}-${node.name}`,
        { ...settings, node, path: `nodes[${i}]` },
        { parent: this, dependsOn: withDependencies(ownDeps, rolls ? [...previous] : []) },
      );
      this.nodes[node.name] = child;
      if (!rolls) return;
      if (current.length === 0) this.batches.push([]);
      current.push(child);
      this.batches[this.batches.length - 1].push(node.name);
    });

    const names = Object.keys(this.nodes);
    this.summaries = pulumi
      .all(names.map((n) => this.nodes[n].summary))
      .apply((s) => Object.fromEntries(names.map((n, i) => [n, s[i]])));
    this.warnings = pulumi
      .all(names.map((n) => this.nodes[n].warnings))
      .apply(
        (w) =>
          Object.fromEntries(
            names.map((n, i) => [n, w[i]] as const).filter(([, list]) => list.length > 0),
          ) as Record<string, RenderWarning[]>,
      );
    this.registerOutputs({ summaries: this.summaries, warnings: this.warnings });
  }
}

/** A resource's own dependsOn plus more resources, as one dependsOn input. */
function withDependencies(
  own: pulumi.ResourceOptions["dependsOn"],
  more: pulumi.Resource[],
): pulumi.ResourceOptions["dependsOn"] {
  if (own === undefined) return more;
  if (pulumi.Resource.isInstance(own)) return [own, ...more];
  if (Array.isArray(own)) return [...own, ...more];
  return pulumi
    .output(own as pulumi.Input<pulumi.Input<pulumi.Resource>[]>)
    .apply((d) => [...(Array.isArray(d) ? d : [d as unknown as pulumi.Resource]), ...more]);
}
