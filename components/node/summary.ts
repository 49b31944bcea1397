/**
 * The one-line, machine-readable summary every node script prints (never holds a secret), its parser, and the
 * merge of a node's parts into one summary.
 *
 * @module
 */

/** What a node script can be asked to do. */
export const ScriptMode = {
  /** Write what the plan says (and give back what it no longer says). */
  Apply: "apply",
  /** Compare only: report drift and what an apply would change; change nothing. */
  Check: "check",
  /** Give back everything this owner manages. */
  Destroy: "destroy",
} as const;
/** One of {@link ScriptMode}'s values. */
export type ScriptMode = (typeof ScriptMode)[keyof typeof ScriptMode];

/** What one run of a node script did. */
export interface ApplySummary {
  /** Script format version. */
  format: number;
  /** The node's name. */
  node: string;
  /** The owner whose entries were applied. */
  owner: string;
  /** The part of the node's plan (`files` or `services`); absent for a script of a whole node. */
  part?: string;
  /** `apply`, `check` or `destroy`. */
  mode: ScriptMode;
  /** Paths written. */
  changed: string[];
  /** Paths given back: restored from their backup, stripped of our block or entries, or deleted. */
  removed: string[];
  /** Number of managed entries already as declared. */
  unchanged: number;
  /** Managed paths someone edited since the last apply. */
  drift: string[];
  /** Service actions run, e.g. `restart:containerd`. */
  actions: string[];
  /**
   * Services whose health check after an action could not run, so that only the action's exit status vouched for
   * them: the check's tool is not on the node, or nothing listened at the service's socket before the action (a
   * wrong `socket` in the profile, or a service that was down). Empty when every check ran.
   */
  unchecked: string[];
  /** Mirrors that answered the probe. */
  probed: string[];
  /** An interrupted earlier run was rolled back first. */
  recovered: boolean;
  /** A service action failed and every file was put back. */
  rolledBack: boolean;
}

/** The prefix of the summary line. */
export const SUMMARY_PREFIX = "PULUMI_REGISTRIES ";

/**
 * Find and parse the summary line in a script's stdout.
 *
 * @returns the last summary in the output, or `undefined` when there is none (the script did not get far).
 */
export function parseSummary(stdout: string | undefined): ApplySummary | undefined {
  if (!stdout) return undefined;
  const lines = stdout.split("\n").filter((l) => l.startsWith(SUMMARY_PREFIX));
  if (lines.length === 0) return undefined;
  const parsed = JSON.parse(lines[lines.length - 1].slice(SUMMARY_PREFIX.length)) as ApplySummary;
  // A summary of a script from before `unchecked` existed names none.
  return { ...parsed, unchecked: parsed.unchecked ?? [] };
}

/**
 * One node's summary from the summaries of its parts (lists joined and sorted, counts added, flags or-ed), or
 * `undefined` when no part has one.
 */
export function mergeSummaries(parts: readonly (ApplySummary | undefined)[]): ApplySummary | undefined {
  const present = parts.filter((s): s is ApplySummary => s !== undefined);
  if (present.length === 0) return undefined;
  if (present.length === 1) {
    const { part: _part, ...rest } = present[0];
    return rest;
  }
  const join = (k: "changed" | "removed" | "drift" | "actions" | "unchecked" | "probed") =>
    [...new Set(present.flatMap((s) => s[k] ?? []))].sort();
  const [first] = present;
  return {
    format: first.format,
    node: first.node,
    owner: first.owner,
    mode: first.mode,
    changed: join("changed"),
    removed: join("removed"),
    unchanged: present.reduce((n, s) => n + s.unchanged, 0),
    drift: join("drift"),
    actions: join("actions"),
    unchecked: join("unchecked"),
    probed: join("probed"),
    recovered: present.some((s) => s.recovered),
    rolledBack: present.some((s) => s.rolledBack),
  };
}
