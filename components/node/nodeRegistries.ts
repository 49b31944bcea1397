/**
 * `NodeRegistries`: one node's registry configuration, applied over SSH by one `remote.Command`.
 *
 * @module
 */
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { ConfigError, Problem } from "../model/errors";
import { normalizeRegistries } from "../model/normalize";
import { RegistriesArgs } from "../model/types";
import { RenderedFile, RenderWarning } from "../render/types";
import { NodePlan, planNode } from "./plan";
import { ProfileArgs } from "./profiles";
import { buildNodeScript, checkScriptOptions, nodeCommand } from "./script";
import { ApplySummary, parseSummary } from "./summary";

/** A value where any leaf may be a Pulumi Input (e.g. a password from `config.requireSecret`). */
export type DeepInput<T> = T extends string | number | boolean | undefined | null
  ? pulumi.Input<T>
  : T extends (infer U)[]
    ? pulumi.Input<DeepInput<U>[]>
    : pulumi.Input<{ [K in keyof T]: DeepInput<T[K]> }>;

/** The registry declaration as a component input. */
export type RegistriesInput = DeepInput<RegistriesArgs>;

/** One node: how to reach it and how it runs containers. */
export interface NodeArgs {
  /**
   * The node's name: a stable key used in child resource names and on the node's summary. Changing it replaces
   * the node's command (its files are given back, then written again). Letters, digits, `.`, `_`, `-`.
   */
  name: string;
  /**
   * How to reach the node: `@pulumi/command`'s connection (host, port, user, privateKey, `hostKey` to pin the
   * host key, `proxy` for a bastion). Passed through unchanged.
   */
  connection: pulumi.Input<command.types.input.remote.ConnectionArgs>;
  /** The node's runtime profile(s), e.g. `{ kind: "microk8s" }` or `[{ kind: "containerd" }, { kind: "kubelet" }]`. */
  profiles: ProfileArgs | ProfileArgs[];
  /** Run the script through `sudo -n` because the connection user is not root. Defaults to `false`. */
  sudo?: boolean;
}

/** Settings shared by {@link NodeRegistries} and `ClusterRegistries`. */
export interface ApplySettings {
  /** The registries every node must use. Passwords and keys may be secret Outputs. */
  registries: RegistriesInput;
  /**
   * Who owns the files on the node: names the node's state directory and the managed blocks. Two stacks that
   * manage the same nodes need different owners. `^[a-z0-9][a-z0-9._-]{0,62}$`. Defaults to `"registries"`.
   */
  owner?: string;
  /** Check from each node that every mirror answers `GET /v2/` before pointing the node at it. Defaults to `false`. */
  probeMirrors?: boolean;
  /** What to do with managed files edited by hand: `"overwrite"` (and report) or `"fail"`. Defaults to `"overwrite"`. */
  drift?: "overwrite" | "fail";
  /** How long an apply waits for another one on the same node, in seconds. Defaults to 120. */
  lockWaitSeconds?: number;
}

/** Arguments of {@link NodeRegistries}. */
export interface NodeRegistriesArgs extends ApplySettings {
  /** The node. */
  node: NodeArgs;
  /** Prefix of property paths in error messages, e.g. `nodes[2]` (set by ClusterRegistries). @internal */
  path?: string;
}

const UNKNOWN_PLACEHOLDER: Record<string, string> = {
  username: "unknown",
  password: "unknown",
  identityToken: "unknown",
  endpoint: "https://unknown.invalid",
  server: "https://unknown.invalid",
};

/**
 * The declaration as far as it is known now: each Output or Promise leaf becomes a placeholder that keeps its
 * meaning for the plan (a credential stays a credential) or is left out (a PEM, a flag), and its property path
 * is recorded so that problems about it wait until its value is known. @internal
 */
export function knownPart(
  value: unknown,
  path = "registries",
  depth = 0,
): { value: unknown; unknown: string[] } {
  const unknown: string[] = [];
  const walk = (v: unknown, p: string, key: string | undefined, level: number): unknown => {
    if (pulumi.Output.isInstance(v) || v instanceof Promise) {
      unknown.push(p);
      return key !== undefined && key in UNKNOWN_PLACEHOLDER
        ? UNKNOWN_PLACEHOLDER[key]
        : level <= 1
          ? {}
          : undefined;
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${p}[${i}]`, undefined, level + 1));
    if (typeof v === "object" && v !== null) {
      // Registry names (the top-level map) and header names are printed as ["key"], other fields as .key.
      const mapLike = level === 0 || key === "headers";
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        const w = walk(x, mapLike ? `${p}[${JSON.stringify(k)}]` : `${p}.${k}`, k, level + 1);
        if (w !== undefined) out[k] = w;
      }
      return out;
    }
    return v;
  };
  return { value: walk(value, path, undefined, depth), unknown };
}

/**
 * Check a node's arguments with everything known at construction, and say whether a change on the node may
 * restart a service (so that ClusterRegistries rolls it). Problems about values that are still Outputs are
 * left for the apply, where they are checked with their real values.
 *
 * @throws {ConfigError} listing every problem found now.
 * @internal
 */
export function checkAtConstruction(args: NodeRegistriesArgs, path?: string): { mayRestart: boolean } {
  const profiles = Array.isArray(args.node.profiles) ? args.node.profiles : [args.node.profiles];
  const options = {
    node: args.node.name,
    owner: args.owner ?? "registries",
    profiles,
    probeMirrors: args.probeMirrors ?? false,
    ...(path ? { path: `${path}.profiles` } : {}),
  };
  const problems: Problem[] = checkScriptOptions({
    drift: args.drift,
    lockWaitSeconds: args.lockWaitSeconds,
  });
  // The node's own settings do not depend on the registries.
  try {
    planNode(normalizeRegistries({}), options);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    problems.push(...e.problems);
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const { value, unknown } = pulumi.Output.isInstance(args.registries)
    ? { value: undefined, unknown: ["registries"] }
    : knownPart(args.registries);
  const pending = (p: string) =>
    unknown.some((u) => p === u || p.startsWith(`${u}.`) || p.startsWith(`${u}[`));
  let plan: NodePlan | undefined;
  try {
    if (value !== undefined) plan = planNode(normalizeRegistries(value as RegistriesArgs), options);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const now = e.problems.filter((p) => !pending(p.path));
    if (now.length > 0) throw new ConfigError(now);
  }
  // Exact when the plan could be made (a restart effect on any entry); otherwise every profile that can ever
  // need a restart counts.
  const mayRestart = plan
    ? plan.entries.some((e) => e.effect?.action === "restart")
    : profiles.some((p) => ["microk8s", "containerd", "k3s", "rke2"].includes(p.kind));
  return { mayRestart };
}

/**
 * One node's registry configuration: renders the node plan for its runtime profiles, and applies it with a
 * single `remote.Command` whose command text is fixed (`/bin/sh -s -- apply`) and whose script, content
 * included, travels on stdin. Nothing runs when nothing changed; delete gives every file back.
 *
 * @example
 * new NodeRegistries("vm", {
 *   node: { name: "vm", connection: { host: "10.0.0.10", user: "root", privateKey }, profiles: { kind: "microk8s" } },
 *   registries: { "docker.io": { mirrors: ["http://10.0.0.5:5000"] } },
 * });
 */
export class NodeRegistries extends pulumi.ComponentResource {
  /** The remote command that applies the plan (create/update: apply; delete: destroy). */
  public readonly command: command.remote.Command;
  /** What the last apply did on the node (parsed from its output; holds no secret). */
  public readonly summary: pulumi.Output<ApplySummary | undefined>;
  /**
   * Every managed entry (path, mode, and the content it manages: a whole file, a block, …); secret when any of
   * them holds a credential or key.
   */
  public readonly files: pulumi.Output<RenderedFile[]>;
  /** What the node's formats could not express and therefore left out. */
  public readonly warnings: pulumi.Output<RenderWarning[]>;
  /**
   * Whether a change on this node may restart a service: exact from the plan when the declaration is known at
   * construction, else from the profiles.
   */
  public readonly mayRestart: boolean;

  /**
   * @param name the component's name; children are named `${name}-apply`.
   * @param args the node and the registries.
   * @param opts resource options.
   */
  constructor(name: string, args: NodeRegistriesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("registry-setup:node:NodeRegistries", name, {}, opts);
    const profiles = Array.isArray(args.node.profiles) ? args.node.profiles : [args.node.profiles];
    const owner = args.owner ?? "registries";
    const plan = (registries: RegistriesArgs): NodePlan =>
      planNode(normalizeRegistries(registries), {
        node: args.node.name,
        owner,
        profiles,
        probeMirrors: args.probeMirrors ?? false,
        ...(args.path ? { path: `${args.path}.profiles` } : {}),
      });
    const scriptOptions = { drift: args.drift, lockWaitSeconds: args.lockWaitSeconds };

    // Validate everything that is known now, so that bad input fails before any resource is registered.
    let known: { mayRestart: boolean };
    try {
      known = checkAtConstruction(args, args.path);
    } catch (e) {
      if (e instanceof ConfigError) throw new pulumi.ResourceError(e.message, this);
      throw e;
    }

    const planned = pulumi.output(args.registries as pulumi.Input<RegistriesArgs>).apply((r) => {
      try {
        const p = plan(r as RegistriesArgs);
        return { plan: p, script: buildNodeScript(p, scriptOptions) };
      } catch (e) {
        if (e instanceof ConfigError) throw new pulumi.ResourceError(e.message, this);
        throw e;
      }
    });
    // The script carries every file's content: secret as soon as one file holds a credential or a key.
    const stdin = planned.apply((p) => (p.plan.secret ? pulumi.secret(p.script) : pulumi.output(p.script)));
    const sudo = args.node.sudo ?? false;

    this.mayRestart = known.mayRestart;
    this.command = new command.remote.Command(
      `${name}-apply`,
      {
        connection: args.node.connection,
        create: nodeCommand("apply", sudo),
        update: nodeCommand("apply", sudo),
        delete: nodeCommand("destroy", sudo),
        stdin,
        // The previous output would travel as environment variables, which sshd drops without AcceptEnv.
        addPreviousOutputInEnv: false,
        // The script prints one summary line and error messages, never file content (tested with a canary).
        logging: "stdoutAndStderr",
      },
      {
        parent: this,
        // A component's dependsOn is not inherited by its children: the rolling order must reach the command.
        dependsOn: opts?.dependsOn,
        additionalSecretOutputs: ["stdin"],
        // A replacement must give the old files back before the new command writes them, never after.
        deleteBeforeReplace: true,
      },
    );
    this.summary = this.command.stdout.apply(parseSummary);
    const files = planned.apply((p) =>
      p.plan.entries.map((e) => ({ path: e.path, content: e.content, mode: e.mode, secret: e.secret })),
    );
    this.files = planned.apply((p) => (p.plan.secret ? pulumi.secret(files) : files));
    this.warnings = planned.apply((p) => [...p.plan.warnings]);
    this.registerOutputs({ summary: this.summary, files: this.files, warnings: this.warnings });
  }
}
