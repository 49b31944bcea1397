/**
 * The one-line, machine-readable summary every node script prints (never holds a secret), and its parser.
 *
 * @module
 */

/** What one run of a node script did. */
export interface ApplySummary {
  /** Script format version. */
  readonly format: number;
  /** The node's name. */
  readonly node: string;
  /** The owner whose entries were applied. */
  readonly owner: string;
  /** The part of the owner's plan this script applied, when the plan was split (e.g. by effect). */
  readonly part?: string;
  /** `apply`, `check` (nothing changed, only compared) or `destroy`. */
  readonly mode: "apply" | "check" | "destroy";
  /** Paths written (or, in `check` mode, that an apply would write — none are listed then: see `drift`). */
  readonly changed: readonly string[];
  /** Paths given back: restored from their backup, stripped of our block or entries, or deleted. */
  readonly removed: readonly string[];
  /** Number of managed entries already as declared. */
  readonly unchanged: number;
  /** Managed paths someone edited since the last apply. */
  readonly drift: readonly string[];
  /** Service actions run, e.g. `restart:containerd`. */
  readonly actions: readonly string[];
  /** Mirrors that answered the probe. */
  readonly probed: readonly string[];
  /** An interrupted earlier run was rolled back first. */
  readonly recovered: boolean;
  /** A service action failed and every file was put back. */
  readonly rolledBack: boolean;
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
  return JSON.parse(lines[lines.length - 1].slice(SUMMARY_PREFIX.length)) as ApplySummary;
}
