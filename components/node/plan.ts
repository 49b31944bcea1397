/**
 * The node plan: for one node and its runtime profiles, the typed list of managed entries (path, mode, content,
 * which restart or reload a change of it needs). Pure and transport-agnostic: the same plan becomes the shell script
 * that reaches the node over SSH, or from a privileged DaemonSet.
 *
 * @module
 */
import { ConfigError, Problems, show } from "../model/errors";
import { RegistryModel } from "../model/types";
import { RenderedFile, RenderWarning } from "../render/types";
import { Effect, FileEntry, PartName, partOf, PlanEntry, ServiceSpec } from "./entries";
import { checkProfile, PROFILES, RuntimeProfile } from "./profiles";

/** A mirror the node probes (`GET <origin>/v2/` must answer 200 or 401) before it is pointed at it. */
export interface Probe {
  /** `scheme://authority` of the mirror. */
  readonly origin: string;
  /** The CA (PEM) the mirror's certificate must chain to, when it uses a custom CA. Never secret. */
  readonly ca?: string;
  /** Skip certificate verification. */
  readonly insecure: boolean;
}

/** Everything one node (or one part of it) gets. */
export interface NodePlan {
  /** The node's name (a label in summaries; `[A-Za-z0-9._-]`). */
  readonly node: string;
  /** Who owns the entries on the node (the state directory's name, the managed blocks' id). */
  readonly owner: string;
  /** The part this plan is (see {@link planParts}); absent for a whole node's plan. */
  readonly part?: PartName;
  /** Entries sorted by path. */
  readonly entries: readonly PlanEntry[];
  /** Services that entries' effects refer to, sorted by name. */
  readonly services: readonly ServiceSpec[];
  /** Mirrors to probe before applying (empty unless asked for). */
  readonly probes: readonly Probe[];
  /** What the node's formats could not express and therefore left out. */
  readonly warnings: readonly RenderWarning[];
  /** Whether any entry holds a secret. */
  readonly secret: boolean;
}

/** Options of {@link planNode}. */
export interface PlanOptions {
  /** Node name. */
  node: string;
  /** Owner id, `^[a-z0-9][a-z0-9._-]{0,62}$`: several owners may manage different files on one node. */
  owner: string;
  /** The node's runtime profiles (at least one). */
  profiles: RuntimeProfile[];
  /** Probe every mirror from the node before applying. Defaults to `false`. */
  probeMirrors?: boolean;
  /** Root of property paths in error messages. Defaults to `"profiles"`. */
  path?: string;
}

/** Owner ids double as directory names on the node. */
export const OWNER_RE = /^[a-z0-9][a-z0-9._-]{0,62}$/;
/** Node names label summaries and child resources. */
export const NODE_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

/**
 * Check a node's own settings (name, owner, profiles) without a declaration; every problem is recorded under
 * `problems`, paths rooted at `root` (e.g. `nodes[2].profiles`).
 */
export function checkNodeSettings(
  problems: Problems,
  options: { node: unknown; owner: unknown; profiles: unknown; root: string; nodePath?: string },
): void {
  const { root } = options;
  if (typeof options.node !== "string" || !NODE_RE.test(options.node)) {
    problems.add(
      options.nodePath ?? "node",
      `${show(options.node)} must be a node name of letters, digits, ".", "_" and "-"`,
    );
  }
  if (typeof options.owner !== "string" || !OWNER_RE.test(options.owner)) {
    problems.add("owner", `${show(options.owner)} must match ${OWNER_RE} (it names a directory on the node)`);
  }
  if (!Array.isArray(options.profiles) || options.profiles.length === 0) {
    problems.add(root, `must be a list of at least one runtime profile, e.g. [{ kind: "microk8s" }]`);
    return;
  }
  options.profiles.forEach((p, i) => checkProfile(problems, `${root}[${i}]`, p));
  const kinds = options.profiles.map((p) => (p as { kind?: string })?.kind);
  kinds.forEach((k, i) => {
    if (k !== undefined && kinds.indexOf(k) !== i)
      problems.add(`${root}[${i}].kind`, `${show(k)} is listed twice: merge the two profiles`);
  });
}

/**
 * Build the plan for one node: render every artefact its profiles need and say what a change of each needs.
 *
 * @throws {ConfigError} when a profile is invalid, two profiles want the same file, or a format cannot honour the
 *   declaration.
 */
export function planNode(model: RegistryModel, options: PlanOptions): NodePlan {
  const problems = new Problems();
  const root = options.path ?? "profiles";
  checkNodeSettings(problems, { node: options.node, owner: options.owner, profiles: options.profiles, root });
  problems.throwIfAny();

  const entries: PlanEntry[] = [];
  const services = new Map<string, ServiceSpec>();
  const warnings: RenderWarning[] = [];

  options.profiles.forEach((profile, i) => {
    const add = (entry: PlanEntry) => {
      if (entries.some((e) => e.path === entry.path)) {
        problems.add(
          `${root}[${i}]`,
          `writes ${show(entry.path)}, which another profile of this node also writes`,
        );
        return;
      }
      entries.push(entry);
    };
    try {
      PROFILES[profile.kind].plan(model, profile, {
        owner: options.owner,
        path: `${root}[${i}]`,
        profiles: options.profiles,
        add,
        addFiles: (files: readonly RenderedFile[], effect?: Effect) =>
          files.forEach((f) => add(fileEntry(f, effect))),
        service: (spec) => {
          services.set(spec.name, spec);
          return spec.name;
        },
        warn: (w) => warnings.push(...w),
      });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      e.problems.forEach((p) => problems.add(p.path, p.message));
    }
  });
  problems.throwIfAny();

  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    node: options.node,
    owner: options.owner,
    entries,
    services: [...services.values()].sort((a, b) => (a.name < b.name ? -1 : 1)),
    probes: options.probeMirrors ? planProbes(model) : [],
    warnings,
    secret: entries.some((e) => e.secret),
  };
}

function fileEntry(f: RenderedFile, effect?: Effect): FileEntry {
  return {
    kind: "file",
    path: f.path,
    mode: f.mode,
    secret: f.secret,
    content: f.content,
    ...(effect ? { effect } : {}),
  };
}

/**
 * Split a node's plan by effect: `files` (entries whose change needs nothing: applied on every node at once) and
 * `services` (entries whose change restarts or reloads a service: rolled across nodes). Each part keeps only the
 * services its entries name; probes go with every part. A part without entries is left out.
 */
export function planParts(plan: NodePlan): NodePlan[] {
  const parts: NodePlan[] = [];
  for (const part of ["files", "services"] as const) {
    const entries = plan.entries.filter((e) => partOf(e) === part);
    if (entries.length === 0) continue;
    const used = new Set(entries.map((e) => e.effect?.service));
    parts.push({
      ...plan,
      part,
      entries,
      services: plan.services.filter((s) => used.has(s.name)),
      secret: entries.some((e) => e.secret),
    });
  }
  return parts;
}

function planProbes(model: RegistryModel): Probe[] {
  const seen = new Set<string>();
  const probes: Probe[] = [];
  for (const reg of model.registries) {
    for (const m of reg.mirrors) {
      const origin = `${m.scheme}://${m.authority}`;
      if (seen.has(origin)) continue;
      seen.add(origin);
      probes.push({ origin, ...(m.tls.ca ? { ca: m.tls.ca } : {}), insecure: m.tls.insecureSkipVerify });
    }
  }
  return probes.sort((a, b) => (a.origin < b.origin ? -1 : 1));
}
