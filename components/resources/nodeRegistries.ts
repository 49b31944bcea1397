/**
 * `NodeRegistries`: one node's registry configuration, applied by one delivery per part of its plan.
 *
 * @module
 */
import * as pulumi from "@pulumi/pulumi";
import { PreparedDeclaration, prepareDeclaration } from "../inputs/declaration";
import { RegistriesInput } from "../inputs/types";
import { ConfigError, Problems } from "../model/errors";
import { ApplySummary } from "../node/summary";
import {
  checkNode,
  checkSettings,
  ClusterNode,
  deliverNode,
  DriftMode,
  NodeFile,
  nodeParts,
  NodeWarning,
} from "./node";
import { throwProblems, warnWithoutHostKey } from "./problems";

/** Arguments of {@link NodeRegistries}. */
export interface NodeRegistriesArgs {
  /** The registries the node must use, keyed by the name images use. Passwords and keys may be secret Outputs. */
  registries: RegistriesInput;
  /** The node. */
  node: ClusterNode;
  /**
   * Who owns the files on the node: names the node's state directory and the managed blocks. Two stacks that manage
   * the same node need different owners. `^[a-z0-9][a-z0-9._-]{0,62}$`. Defaults to `registries`. Changing it gives
   * everything back under the old owner first, then applies under the new one.
   */
  owner?: string;
  /** Check from the node that every mirror answers `GET /v2/` before pointing the node at it. Defaults to `false`. */
  probeMirrors?: boolean;
  /** What to do with managed files edited by hand: `overwrite` (and report) or `fail`. Defaults to `overwrite`. */
  drift?: DriftMode;
  /** How long an apply waits for another one on the same node, in seconds (0–3600). Defaults to 120. */
  lockWaitSeconds?: number;
}

/**
 * Internal: a declaration a parent already prepared (a cluster normalises it once for all its nodes). Kept off the
 * public argument type so that schemas and other languages never see it.
 */
export const PREPARED = Symbol.for("registry-setup:prepared-declaration");

/** What a parent hands a node under {@link PREPARED}. */
interface Inherited {
  readonly prepared: PreparedDeclaration;
  /** The node's property path in the parent's arguments, e.g. `nodes[2]`. */
  readonly path: string;
  /** What the node's `services` part waits for (the previous rollout batch). */
  readonly waitFor: pulumi.Resource[];
}

/** Each node's `services` delivery, for the next rollout batch to wait for (kept off the class: not an output). */
const SERVICES = new WeakMap<NodeRegistries, pulumi.Resource>();

/** The delivery of a node's `services` part, if it has one. */
export function servicesOf(node: NodeRegistries): pulumi.Resource[] {
  const r = SERVICES.get(node);
  return r ? [r] : [];
}

/**
 * One node's registry configuration: renders the node's plan for its runtime profiles and applies it over SSH with
 * one `remote.Command` per part (`${name}-files`: changes that need no restart; `${name}-services`: changes that
 * restart or reload a service). Command texts are fixed (`/bin/sh -s -- apply`); the packed script travels on stdin.
 * Nothing runs when nothing changed; destroy gives every file back.
 *
 * @example
 * new NodeRegistries("vm", {
 *   node: { name: "vm", connection: { host: "10.0.0.10", user: "root", privateKey }, profiles: [{ kind: "microk8s" }] },
 *   registries: { "docker.io": { mirrors: [{ endpoint: "http://10.0.0.5:5000" }] } },
 * });
 */
export class NodeRegistries extends pulumi.ComponentResource {
  /** The node's name. */
  public readonly node: pulumi.Output<string>;
  /** What the last apply did on the node (every part merged); holds no secret. */
  public readonly summary: pulumi.Output<ApplySummary | undefined>;
  /** Every managed path: kind, mode, part, what a change needs, and its content unless it holds a secret. */
  public readonly files: pulumi.Output<NodeFile[]>;
  /** What the node's formats could not express and therefore left out. */
  public readonly warnings: pulumi.Output<NodeWarning[]>;

  /**
   * @param name the component's name; its children are `${name}-files` and `${name}-services`.
   * @param args the node and the registries.
   * @param opts resource options.
   */
  constructor(name: string, args: NodeRegistriesArgs, opts?: pulumi.ComponentResourceOptions) {
    // The type token never changes once released: a new token is a new resource type (everything replaced).
    super("registry-setup:index:NodeRegistries", name, {}, opts);
    const inherited = (args as unknown as Record<symbol, Inherited | undefined>)[PREPARED];
    const path = inherited?.path ?? "node";
    const problems = new Problems();
    const settings = checkSettings(problems, args);
    checkNode(problems, args.node, path, settings);
    // A parent (a cluster) prepares the declaration once for all its nodes; a node on its own prepares it here.
    let prepared = inherited?.prepared;
    if (!prepared && problems.count === 0) {
      const p = prepareDeclaration(args.registries, this);
      p.problems.forEach((x) => problems.add(x.path, x.message));
      prepared = p.prepared;
    }
    throwProblems(problems, this);
    if (!prepared) throw new Error("internal: no declaration");

    let parts;
    try {
      parts = nodeParts(prepared, args.node, settings, path);
    } catch (e) {
      if (e instanceof ConfigError) throw new pulumi.ResourceError(e.message, this);
      throw e;
    }
    if (!inherited) warnWithoutHostKey(args.node, this);
    const out = deliverNode(
      this,
      name,
      args.node,
      prepared,
      settings,
      parts,
      path,
      inherited?.waitFor ?? [],
      opts?.dependsOn,
    );
    if (out.services) SERVICES.set(this, out.services);
    this.node = pulumi.output(args.node.name);
    this.summary = out.summary;
    this.files = out.files;
    this.warnings = out.warnings;
    this.registerOutputs({
      node: this.node,
      summary: this.summary,
      files: this.files,
      warnings: this.warnings,
    });
  }
}
