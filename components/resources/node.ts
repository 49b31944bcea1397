/**
 * What NodeRegistries and ClusterRegistries share: a node's arguments and their checks, the parts a node gets, and
 * the deliveries that apply them. Wiring only: plans and scripts come from the pure node layer, delivery from a
 * transport.
 *
 * @module
 */
import * as pulumi from "@pulumi/pulumi";
import { PreparedDeclaration } from "../inputs/declaration";
import { PLACEHOLDER_PEM } from "../inputs/known";
import { ConfigError, Problems, show } from "../model/errors";
import { optionalBoolean } from "../model/fields";
import { normalizeRegistries } from "../model/normalize";
import { RegistryModel } from "../model/types";
import { RenderWarning } from "../render/types";
import { managedText, PartName, partOf } from "../node/entries";
import { checkNodeSettings, NodePlan, planNode, planParts } from "../node/plan";
import { RuntimeProfile } from "../node/profiles";
import { checkScriptOptions, packNodeScript, scriptBody } from "../node/script";
import { ApplySummary, mergeSummaries, parseSummary } from "../node/summary";
import { SshConnection, SshTransport } from "../transport/ssh";
import { NodeTransport } from "../transport/types";

/** What to do with a managed file someone edited by hand since the last apply. */
export const DriftMode = {
  /** Put the declared content back and report the path as drift. */
  Overwrite: "overwrite",
  /** Change nothing on the node and fail. */
  Fail: "fail",
} as const;
/** One of {@link DriftMode}'s values. */
export type DriftMode = (typeof DriftMode)[keyof typeof DriftMode];

/** One node: how to reach it and how it runs containers. */
export interface ClusterNode {
  /**
   * The node's name: a stable key used in child resource names and in the node's summary. Letters, digits, `.`,
   * `_`, `-`. Changing it replaces the node's deliveries (its files are given back, then written again).
   */
  name: string;
  /** How to reach the node over SSH (`hostKey` pins its host key; `proxy` reaches it through a bastion). */
  connection: SshConnection;
  /** The node's runtime profiles, e.g. `[{ kind: "microk8s" }]` or `[{ kind: "containerd" }, { kind: "kubelet" }]`. */
  profiles: RuntimeProfile[];
  /** Run the node script through `sudo -n` because the connection user is not root. Defaults to `false`. */
  sudo?: boolean;
}

/** One managed path of a node, as people read it (the `files` output, `registry-setup render`). */
export interface NodeFile {
  /** Absolute path on the node. */
  path: string;
  /** `file` (the whole file is ours), `block` (a managed block in a file others own), `config-path`, `json-merge`. */
  kind: string;
  /** File mode in octal, e.g. `0644` (a file others own keeps its own mode on the node). */
  mode: string;
  /** Whether what we manage there holds a credential or a key (then `content` is left out). */
  secret: boolean;
  /** `files` (applied on every node at once) or `services` (rolled: a change restarts or reloads a service). */
  part: string;
  /** What a change of it needs, e.g. `restart:containerd`; empty when the runtime reads it on every pull. */
  action: string;
  /** What we manage there (the whole file, our block, our values); absent when secret. */
  content?: string;
}

/** Something a node's formats could not express and left out. */
export interface NodeWarning {
  /** Property path in the declaration. */
  path: string;
  /** What was left out and why. */
  message: string;
}

/** The settings every node of a component shares. */
export interface NodeSettings {
  readonly owner: string;
  readonly probeMirrors: boolean;
  readonly drift: DriftMode;
  readonly lockWaitSeconds: number;
}

/** Check and default the shared settings; problems are recorded at their argument names. */
export function checkSettings(
  problems: Problems,
  args: { owner?: unknown; probeMirrors?: unknown; drift?: unknown; lockWaitSeconds?: unknown },
): NodeSettings {
  for (const p of checkScriptOptions({
    drift: args.drift as DriftMode,
    lockWaitSeconds: args.lockWaitSeconds as number,
  })) {
    problems.add(p.path, p.message);
  }
  return {
    owner: (args.owner as string | undefined) ?? "registries",
    probeMirrors: optionalBoolean(problems, "probeMirrors", args.probeMirrors) ?? false,
    drift: (args.drift as DriftMode | undefined) ?? DriftMode.Overwrite,
    lockWaitSeconds: (args.lockWaitSeconds as number | undefined) ?? 120,
  };
}

/**
 * Check a list of nodes under `nodes`: at least one, each one ({@link checkNode}), names unique; `each` adds what a
 * caller checks per node. Returns the list (empty when it was not one).
 */
export function checkNodes(
  problems: Problems,
  input: unknown,
  settings: NodeSettings,
  each?: (node: ClusterNode, path: string, index: number) => void,
): ClusterNode[] {
  const nodes = Array.isArray(input) ? (input as ClusterNode[]) : [];
  if (nodes.length === 0) problems.add("nodes", "must list at least one node");
  const names = new Map<unknown, number>();
  nodes.forEach((n, i) => {
    checkNode(problems, n, `nodes[${i}]`, settings);
    const prior = names.get(n?.name);
    if (prior !== undefined) {
      problems.add(
        `nodes[${i}].name`,
        `${show(n.name)} is also the name of nodes[${prior}]: node names must be unique`,
      );
    } else names.set(n?.name, i);
    each?.(n, `nodes[${i}]`, i);
  });
  return nodes;
}

/** Check one node's own arguments (not the declaration); problems are recorded under `path`. */
export function checkNode(problems: Problems, node: unknown, path: string, settings: NodeSettings): void {
  if (typeof node !== "object" || node === null || Array.isArray(node)) {
    problems.add(path, `must be a node { name, connection, profiles }, got ${show(node)}`);
    return;
  }
  const n = node as Record<string, unknown>;
  for (const key of Object.keys(n)) {
    if (!["name", "connection", "profiles", "sudo"].includes(key)) {
      problems.add(`${path}.${key}`, `is not a node setting (known: name, connection, profiles, sudo)`);
    }
  }
  optionalBoolean(problems, `${path}.sudo`, n.sudo);
  const c = n.connection;
  if (pulumi.Output.isInstance(c)) {
    // Checked by the provider once known.
  } else if (typeof c !== "object" || c === null || Array.isArray(c)) {
    problems.add(`${path}.connection`, `must be an object { host, user?, privateKey?, hostKey?, … }`);
  } else {
    const conn = c as Record<string, unknown>;
    if (conn.host === undefined || conn.host === "")
      problems.add(`${path}.connection.host`, `is required: the node's address`);
    else if (!pulumi.Output.isInstance(conn.host) && typeof conn.host !== "string")
      problems.add(`${path}.connection.host`, `must be a host name or IP address, got ${show(conn.host)}`);
    if (
      conn.port !== undefined &&
      !pulumi.Output.isInstance(conn.port) &&
      (!Number.isInteger(conn.port) || (conn.port as number) < 1 || (conn.port as number) > 65535)
    ) {
      problems.add(`${path}.connection.port`, `${show(conn.port)} must be a port number from 1 to 65535`);
    }
  }
  checkNodeSettings(problems, {
    node: n.name,
    nodePath: `${path}.name`,
    owner: settings.owner,
    profiles: n.profiles,
    root: `${path}.profiles`,
  });
}

/** The declarations whose plans say which parts a node may ever get when the real declaration is not known yet. */
let staticModels: RegistryModel[] | undefined;
function maximalModels(): RegistryModel[] {
  const tls = { ca: PLACEHOLDER_PEM.cert, clientCert: PLACEHOLDER_PEM.cert, clientKey: PLACEHOLDER_PEM.key };
  staticModels ??= [{ username: "u", password: "p" }, { identityToken: "t" }].map((auth) =>
    normalizeRegistries({
      "docker.io": { mirrors: [{ endpoint: "http://mirror.invalid" }] },
      "registry.invalid": { mirrors: [{ endpoint: "https://mirror.invalid:5000", tls, auth }], tls, auth },
    }),
  );
  return staticModels;
}

/**
 * The parts a node gets: exact from the plan when the whole declaration is known now, else every part its profiles
 * can ever produce (a part that turns out empty gives back what it had and costs one session on its first apply).
 */
export function nodeParts(
  prepared: PreparedDeclaration,
  node: PlannedNode,
  settings: NodeSettings,
  path: string,
): PartName[] {
  const plan = (model: RegistryModel) =>
    planNode(model, {
      node: node.name,
      owner: settings.owner,
      profiles: node.profiles,
      path: `${path}.profiles`,
    });
  if (prepared.known && !prepared.partlyUnknown) {
    return classPlan(prepared.known, node, settings, path).parts.map((p) => p.part!);
  }
  const parts = new Set<PartName>();
  for (const model of maximalModels()) {
    try {
      plan(model).entries.forEach((e) => parts.add(partOf(e)));
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
    }
  }
  return (["files", "services"] as const).filter((p) => parts.has(p));
}

/**
 * The warning for services that were restarted or reloaded without their health check (the summary's `unchecked`):
 * the apply succeeded on the action's exit status alone.
 */
export function uncheckedWarning(path: string, summary: Pick<ApplySummary, "node" | "unchecked">): string {
  return `${path} (${summary.node}): the health check of ${summary.unchecked.join(", ")} did not run after its restart or reload: its tool is not on the node, or nothing listened at the profile's socket before the action (a wrong socket, or the service was down); only the action's exit status vouched for it. Set the profile's socket to where the service listens.`;
}

/** What a node's deliveries produce. */
export interface NodeOutputs {
  readonly summary: pulumi.Output<ApplySummary | undefined>;
  readonly files: pulumi.Output<NodeFile[]>;
  readonly warnings: pulumi.Output<NodeWarning[]>;
  /** The delivery of the `services` part, if the node has one (later batches wait for it). */
  readonly services?: pulumi.Resource;
}

/**
 * Register a node's deliveries: one per part, named `${name}-${part}`.
 *
 * @param parent the component that owns them.
 * @param waitFor what the `services` part must wait for (the previous rollout batch), besides `dependsOn`.
 */
export function deliverNode(
  parent: pulumi.ComponentResource,
  name: string,
  node: ClusterNode,
  prepared: PreparedDeclaration,
  settings: NodeSettings,
  parts: readonly PartName[],
  path: string,
  waitFor: pulumi.Resource[],
  dependsOn: pulumi.ResourceOptions["dependsOn"],
  transport: NodeTransport = new SshTransport(node.connection),
): NodeOutputs {
  const planned = prepared.model.apply((model) => {
    try {
      return classPlan(model, node, settings, path);
    } catch (e) {
      if (e instanceof ConfigError) throw new pulumi.ResourceError(e.message, parent);
      throw e;
    }
  });
  const byPart = planned.apply((plan) => {
    const missing = plan.parts.filter((p) => !parts.includes(p.part!));
    if (missing.length > 0) {
      throw new pulumi.ResourceError(
        `${path}: the declaration, once known, needs a ${missing[0].part} part that was not foreseen when the program was built; pass the registry declaration as plain values (secrets may be Outputs) or report this`,
        parent,
      );
    }
    return plan;
  });

  const summaries: pulumi.Output<ApplySummary | undefined>[] = [];
  let services: pulumi.Resource | undefined;
  for (const part of parts) {
    const built = byPart.apply((plan) => {
      const p = plan.parts.find((s) => s.part === part);
      return {
        text: packNodeScript(p ? plan.bodies.get(part)! : plan.emptyBody(part), node.name),
        secret: p?.secret ?? false,
      };
    });
    // Secret exactly when this part holds a credential or a key, whatever else of the declaration was secret: a
    // reviewer then sees every other script in clear. (The renderers mark every file that carries one.)
    const script = pulumi
      .unsecret(built)
      .apply((b) => (b.secret ? pulumi.secret(b.text) : pulumi.output(b.text)));
    // Child names must never change once released: a new name is a new resource (gives back, then writes again).
    const delivered = transport.deliver(
      {
        name: `${name}-${part}`,
        script,
        sudo: node.sudo ?? false,
        replaceOn: [settings.owner, part],
      },
      {
        parent,
        // A component's dependsOn is not inherited by its children: it must reach each delivery.
        dependsOn: withDependencies(dependsOn, part === "services" ? waitFor : []),
      },
    );
    if (part === "services") services = delivered.resource;
    summaries.push(delivered.stdout.apply(parseSummary));
  }

  const files = pulumi.unsecret(planned.apply((plan) => plan.files));
  const warnings = pulumi.unsecret(planned.apply((plan) => plan.warnings));
  return {
    summary: pulumi.all(summaries).apply((all) => {
      const summary = mergeSummaries(all);
      if (summary && summary.unchecked.length > 0) pulumi.log.warn(uncheckedWarning(path, summary), parent);
      return summary;
    }),
    files,
    warnings,
    ...(services ? { services } : {}),
  };
}

/** What planning needs of a node (or of a node class: its name labels the plan, which does not depend on it). */
export type PlannedNode = Pick<ClusterNode, "name" | "profiles">;

/** A node class's plan: its parts, their script bodies, and what the outputs show. */
export interface ClassPlan {
  readonly parts: NodePlan[];
  readonly bodies: Map<PartName, string>;
  /** The body of a part without entries (it gives back whatever that part had). */
  emptyBody(part: PartName): string;
  readonly files: NodeFile[];
  readonly warnings: NodeWarning[];
  /** The property path of the profiles the warnings were planned under (the first node of the class). */
  readonly profilesPath: string;
}

/**
 * Plans by declaration and node class. Nodes whose profiles and settings are the same get the same plan and the same
 * script bodies (only the line that names the node differs), so a cluster of a thousand nodes plans once per class.
 */
const classPlans = new WeakMap<RegistryModel, Map<string, ClassPlan>>();

/**
 * The plan of every node with these profiles and settings (cached per declaration): the same for an SSH node and a
 * DaemonSet's node class, so both transports send the same script bodies.
 *
 * @throws {ConfigError} when the profiles cannot honour the declaration.
 */
export function classPlan(
  model: RegistryModel,
  node: PlannedNode,
  settings: NodeSettings,
  path: string,
): ClassPlan {
  const key = JSON.stringify([node.profiles, settings]);
  let byClass = classPlans.get(model);
  if (!byClass) classPlans.set(model, (byClass = new Map()));
  const profilesPath = `${path}.profiles`;
  const cached = byClass.get(key);
  // The plan is shared, but a warning about a profile is reported at this node's own path.
  if (cached) return cached.profilesPath === profilesPath ? cached : atPath(cached, profilesPath);
  // Errors are not cached: each node reports them under its own property path.
  const plan = planNode(model, {
    node: node.name,
    owner: settings.owner,
    profiles: node.profiles,
    probeMirrors: settings.probeMirrors,
    path: profilesPath,
  });
  const options = { drift: settings.drift, lockWaitSeconds: settings.lockWaitSeconds };
  const parts = planParts(plan);
  const result: ClassPlan = {
    parts,
    bodies: new Map(parts.map((p) => [p.part!, scriptBody(p, options)])),
    emptyBody: (part) =>
      scriptBody({ ...plan, part, entries: [], services: [], warnings: [], secret: false }, options),
    files: plan.entries.map(describe),
    warnings: plan.warnings.map((w: RenderWarning) => ({ path: w.path, message: w.message })),
    profilesPath,
  };
  byClass.set(key, result);
  return result;
}

/** A class plan whose warnings about profiles are at `profilesPath` instead. */
function atPath(plan: ClassPlan, profilesPath: string): ClassPlan {
  const from = plan.profilesPath;
  const moved = (p: string) =>
    p === from || p.startsWith(`${from}[`) || p.startsWith(`${from}.`)
      ? profilesPath + p.slice(from.length)
      : p;
  return { ...plan, profilesPath, warnings: plan.warnings.map((w) => ({ ...w, path: moved(w.path) })) };
}

function describe(e: NodePlan["entries"][number]): NodeFile {
  return {
    path: e.path,
    kind: e.kind,
    mode: `0${e.mode.toString(8)}`,
    secret: e.secret,
    part: partOf(e),
    action: e.effect ? `${e.effect.action}:${e.effect.service}` : "",
    ...(e.secret ? {} : { content: managedText(e) }),
  };
}

/** A resource's own dependsOn plus more resources, as one dependsOn input. */
export function withDependencies(
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
