/**
 * `ClusterRegistries`: the registry configuration of every node of a cluster, rolled out so that services never
 * restart on all nodes at once, while changes that restart nothing go to every node at once.
 *
 * @module
 */
import * as pulumi from "@pulumi/pulumi";
import { PreparedDeclaration, prepareDeclaration } from "../inputs/declaration";
import { RegistriesInput } from "../inputs/types";
import { ConfigError, Problems, show } from "../model/errors";
import { PartName } from "../node/entries";
import { planRollout } from "../node/rollout";
import { ApplySummary } from "../node/summary";
import {
  checkNodes,
  checkSettings,
  ClusterNode,
  DriftMode,
  NodeFile,
  nodeParts,
  NodeSettings,
  NodeWarning,
} from "./node";
import { NodeRegistries, PREPARED, servicesOf } from "./nodeRegistries";
import { throwProblems, warnWithoutHostKey } from "./problems";

/** Arguments of {@link ClusterRegistries}. */
export interface ClusterRegistriesArgs {
  /** The registries every node must use, keyed by the name images use. Passwords and keys may be secret Outputs. */
  registries: RegistriesInput;
  /** The nodes (at least one); names must be unique. */
  nodes: ClusterNode[];
  /**
   * How many nodes may restart or reload a service at the same time; the next batch starts only when the previous
   * one succeeded. Changes that restart nothing (hosts files, CA files, kubelet credentials) go to every node at
   * once. Defaults to 1.
   */
  maxUnavailable?: number;
  /**
   * Who owns the files on the nodes: names each node's state directory and the managed blocks. Two stacks that
   * manage the same nodes need different owners. `^[a-z0-9][a-z0-9._-]{0,62}$`. Defaults to `registries`.
   */
  owner?: string;
  /** Check from each node that every mirror answers `GET /v2/` before pointing it there. Defaults to `false`. */
  probeMirrors?: boolean;
  /** What to do with managed files edited by hand: `overwrite` (and report) or `fail`. Defaults to `overwrite`. */
  drift?: DriftMode;
  /** How long an apply waits for another one on the same node, in seconds (0–3600). Defaults to 120. */
  lockWaitSeconds?: number;
}

/**
 * Applies one registry declaration to many nodes: one `NodeRegistries` per node (`${name}-${node.name}`).
 * Every node's `files` part goes at once; `services` parts roll in batches of `maxUnavailable`, each batch
 * waiting for the previous one.
 *
 * @example
 * new ClusterRegistries("staging", {
 *   nodes: ["10.0.0.11", "10.0.0.12", "10.0.0.13"].map((host, i) => ({
 *     name: `node${i + 1}`, connection: { host, user: "root", privateKey }, profiles: [{ kind: "microk8s" }],
 *   })),
 *   registries: { "docker.io": { mirrors: [{ endpoint: "http://10.0.0.5:5000" }] } },
 * });
 */
export class ClusterRegistries extends pulumi.ComponentResource {
  /** Each node's summary of its last apply, keyed by node name (holds no secret). */
  public readonly summaries: pulumi.Output<Record<string, ApplySummary>>;
  /** Each node's managed paths (see `NodeRegistries.files`), keyed by node name. */
  public readonly files: pulumi.Output<Record<string, NodeFile[]>>;
  /** What the nodes' formats could not express, keyed by node name (only nodes with warnings). */
  public readonly warnings: pulumi.Output<Record<string, NodeWarning[]>>;
  /** The rollout batches of nodes that may restart or reload a service, by node name, in order. */
  public readonly batches: pulumi.Output<string[][]>;

  /**
   * @param name the component's name; each node's child is `${name}-${node.name}`.
   * @param args the nodes, the registries and the rollout settings.
   * @param opts resource options.
   */
  constructor(name: string, args: ClusterRegistriesArgs, opts?: pulumi.ComponentResourceOptions) {
    // The type token never changes once released: a new token is a new resource type (everything replaced).
    super("registry-setup:index:ClusterRegistries", name, {}, opts);
    const inherited = (args as unknown as Record<symbol, ValidatedCluster | undefined>)[VALIDATED];
    let validated = inherited;
    if (!validated) {
      const problems = new Problems();
      const checked = checkClusterArgs(problems, args);
      throwProblems(problems, this);
      const { prepared, problems: found } = prepareDeclaration(args.registries, this);
      found.forEach((p) => problems.add(p.path, p.message));
      throwProblems(problems, this);
      if (!prepared) throw new Error("internal: no declaration");
      const parts = planClusterParts(problems, prepared, args.nodes, checked.settings);
      throwProblems(problems, this);
      validated = { ...checked, prepared, parts };
    }
    const { prepared, parts, maxUnavailable } = validated;
    const nodes = args.nodes;

    const rollout = planRollout(
      nodes.map((n) => ({ name: n.name, rolls: parts.get(n.name)!.includes("services") })),
      maxUnavailable,
    );
    const children = new Map<string, NodeRegistries>();
    const services = new Map<string, pulumi.Resource[]>();
    const { nodes: _nodes, maxUnavailable: _max, ...shared } = args;
    nodes.forEach((node, i) => {
      warnWithoutHostKey(node, this);
      const waitFor = (rollout.waitsFor[node.name] ?? []).flatMap((n) => services.get(n) ?? []);
      // Child names must never change once released: a new name is a new resource (gives back, then writes again).
      const child = new NodeRegistries(
        `${name}-${node.name}`,
        Object.assign({ ...shared, node }, { [PREPARED]: { prepared, path: `nodes[${i}]`, waitFor } }),
        { parent: this, ...(opts?.dependsOn ? { dependsOn: opts.dependsOn } : {}) },
      );
      children.set(node.name, child);
      services.set(node.name, servicesOf(child));
    });

    const keyed = <T>(pick: (c: NodeRegistries) => pulumi.Output<T>) =>
      pulumi.all([...children].map(([n, c]) => pick(c).apply((v) => [n, v] as const)));
    this.summaries = keyed((c) => c.summary).apply(
      (list) => Object.fromEntries(list.filter(([, s]) => s !== undefined)) as Record<string, ApplySummary>,
    );
    this.files = keyed((c) => c.files).apply((list) => Object.fromEntries(list));
    this.warnings = keyed((c) => c.warnings).apply((list) =>
      Object.fromEntries(list.filter(([, w]) => w.length > 0)),
    );
    this.batches = pulumi.output(rollout.batches);
    this.registerOutputs({
      summaries: this.summaries,
      files: this.files,
      warnings: this.warnings,
      batches: this.batches,
    });
  }
}

/**
 * Internal: a cluster a parent already checked and planned (`RegistrySetup` checks everything before it registers
 * any child). Kept off the public argument type so that schemas and other languages never see it.
 */
export const VALIDATED = Symbol.for("registry-setup:validated-cluster");

/** What {@link checkClusterArgs} and {@link planClusterParts} found, handed to a child under {@link VALIDATED}. */
export interface ValidatedCluster {
  readonly settings: NodeSettings;
  readonly maxUnavailable: number;
  readonly prepared: PreparedDeclaration;
  readonly parts: Map<string, PartName[]>;
}

/**
 * Check a cluster's own arguments (not the declaration): `maxUnavailable`, the shared settings, and each node
 * (unique names, one node per host). Problems are recorded at their argument names.
 */
export function checkClusterArgs(
  problems: Problems,
  args: Omit<ClusterRegistriesArgs, "registries">,
): { settings: NodeSettings; maxUnavailable: number } {
  const maxUnavailable = args.maxUnavailable ?? 1;
  if (!Number.isInteger(maxUnavailable) || maxUnavailable < 1) {
    problems.add("maxUnavailable", `${show(maxUnavailable)} must be a whole number of at least 1`);
  }
  const settings = checkSettings(problems, args);
  const hosts = new Map<string, number>();
  checkNodes(problems, args.nodes, settings, (n, at, i) => {
    // Two entries that reach the same host with the same owner would give back each other's files.
    const c = n?.connection as { host?: unknown; port?: unknown } | undefined;
    if (c && typeof c.host === "string" && !pulumi.Output.isInstance(c.port)) {
      const key = `${c.host.toLowerCase()}:${(c.port as number | undefined) ?? 22}`;
      const same = hosts.get(key);
      if (same !== undefined) {
        problems.add(
          `${at}.connection.host`,
          `${show(c.host)} is also reached by nodes[${same}]: one host is one node (list its profiles together), or give the other stack its own owner`,
        );
      } else hosts.set(key, i);
    }
  });
  return { settings, maxUnavailable };
}

/**
 * Plan every node before any child exists, so that a bad node anywhere registers nothing: the parts each node gets,
 * by node name. Problems are recorded under `nodes[i]`.
 */
export function planClusterParts(
  problems: Problems,
  prepared: PreparedDeclaration,
  nodes: ClusterNode[],
  settings: NodeSettings,
): Map<string, PartName[]> {
  const parts = new Map<string, PartName[]>();
  nodes.forEach((n, i) => {
    try {
      parts.set(n.name, nodeParts(prepared, n, settings, `nodes[${i}]`));
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      e.problems.forEach((p) => problems.add(p.path, p.message));
    }
  });
  return parts;
}
