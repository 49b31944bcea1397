/**
 * Runtime versions and the version boundaries a profile keys on. A profile's `version` is
 * `"<major>.<minor>"` or `"<major>.<minor>.<patch>"`; several features arrived in patch releases of several minor
 * lines at once (k3s' January 2024 releases, containerd's `_default` in 1.6.17 and 1.7.0), so a boundary is the
 * list of the first release of each minor line that has the feature.
 *
 * A version without a patch means the minor line's first release (`"1.6"` is 1.6.0): the library cannot assume a
 * later patch, so a feature that came in a patch release is refused until the patch is declared.
 *
 * @module
 */

/** A parsed runtime version. */
export interface Version {
  /** Major number. */
  readonly major: number;
  /** Minor number. */
  readonly minor: number;
  /** Patch number (0 when the declaration named only the minor line). */
  readonly patch: number;
  /** The text as declared. */
  readonly text: string;
}

const VERSION_RE = /^([1-9]\d*)\.(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?$/;

/** Parse `"<major>.<minor>"` or `"<major>.<minor>.<patch>"`; `undefined` for anything else. */
export function parseVersion(text: unknown): Version | undefined {
  if (typeof text !== "string") return undefined;
  const m = VERSION_RE.exec(text);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: m[3] === undefined ? 0 : Number(m[3]), text };
}

/** Parse a version the table already checked (throws on a bad one: an internal error). */
export function version(text: string): Version {
  const v = parseVersion(text);
  if (!v) throw new Error(`internal: ${JSON.stringify(text)} is not a version`);
  return v;
}

/** Negative, zero or positive as `a` is older than, equal to or newer than `b`. */
export function compareVersions(a: Version, b: Version): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

/** `a` is `b` or newer. */
export function atLeast(a: Version, b: string): boolean {
  return compareVersions(a, version(b)) >= 0;
}

/**
 * A feature's boundary: the first release of each minor line that has it, oldest line first (`["1.6.17",
 * "1.7.0"]`). Every minor line after the last one listed has it too; a line before the first one does not.
 */
export type Since = readonly string[];

/** Whether a version has a feature that arrived at `since`. */
export function has(v: Version, since: Since): boolean {
  const firsts = since.map(version);
  const line = firsts.find((f) => f.major === v.major && f.minor === v.minor);
  if (line) return v.patch >= line.patch;
  return compareVersions(v, firsts[firsts.length - 1]) > 0;
}

/** The boundary in words: `"1.26.13, 1.27.10, 1.28.6 or 1.29.1 (or any later minor line)"`, `"25.0 or later"`. */
export function describeSince(since: Since): string {
  const shown = since.map((s) => s.replace(/\.0$/, (m) => (s.split(".").length === 3 ? "" : m)));
  if (shown.length === 1) return `${shown[0]} or later`;
  return `${shown.slice(0, -1).join(", ")} or ${shown[shown.length - 1]} (or any later minor line)`;
}
