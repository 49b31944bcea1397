/**
 * A managed block: a run of lines inside a file someone else owns (MicroK8s' `containerd-template.toml`, a
 * containerd `config.toml`, …), fenced by marker comment lines, that this library inserts, replaces and
 * removes without touching a single byte outside it.
 *
 * The node layer has a shell (awk) twin of {@link spliceManagedBlock}; both are checked against the same
 * table of cases (`test/render/managedBlock.cases.ts`), so any change here must keep that table passing.
 *
 * @module
 */

/** The pattern a block id must match: lowercase letters, digits, `.`, `_` and `-`, 1 to 63 characters. */
export const MANAGED_BLOCK_ID = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/**
 * The line that opens the block `id`, without a line ending.
 *
 * @throws {Error} when `id` does not match {@link MANAGED_BLOCK_ID}.
 * @example beginMarker("registries") // "# >>> pulumi-registries registries (managed block: do not edit) >>>"
 */
export function beginMarker(id: string): string {
  checkId(id);
  return `# >>> pulumi-registries ${id} (managed block: do not edit) >>>`;
}

/**
 * The line that closes the block `id`, without a line ending.
 *
 * @throws {Error} when `id` does not match {@link MANAGED_BLOCK_ID}.
 * @example endMarker("registries") // "# <<< pulumi-registries registries <<<"
 */
export function endMarker(id: string): string {
  checkId(id);
  return `# <<< pulumi-registries ${id} <<<`;
}

/** Where a managed block sits in a text. */
export interface ManagedBlockLocation {
  /** Offset of the first character of the begin marker line. */
  readonly start: number;
  /** Offset just past the end marker line and its line ending (if it has one). */
  readonly end: number;
  /** The text between the marker lines (everything after the begin line's ending, up to the end line). */
  readonly content: string;
}

/**
 * Find the block `id` in `existing`.
 *
 * Marker lines match only as whole lines (a trailing `\r` is allowed, so CRLF files work).
 *
 * @returns the location, or `undefined` when the text (or the file) has no such block.
 * @throws {Error} when the markers are damaged: a begin without an end, an end before its begin, or a
 *   marker that appears twice. The message says how to repair the file; it never quotes the file.
 */
export function findManagedBlock(existing: string | undefined, id: string): ManagedBlockLocation | undefined {
  const begin = beginMarker(id);
  const end = endMarker(id);
  if (existing === undefined) return undefined;
  const begins: Line[] = [];
  const ends: Line[] = [];
  for (const line of lines(existing)) {
    if (line.text === begin) begins.push(line);
    else if (line.text === end) ends.push(line);
  }
  if (begins.length === 0 && ends.length === 0) return undefined;
  const damage =
    begins.length > 1
      ? `the begin marker appears ${begins.length} times (lines ${begins.map((l) => l.number).join(", ")})`
      : ends.length > 1
        ? `the end marker appears ${ends.length} times (lines ${ends.map((l) => l.number).join(", ")})`
        : begins.length === 0
          ? `there is an end marker (line ${ends[0].number}) but no begin marker`
          : ends.length === 0
            ? `there is a begin marker (line ${begins[0].number}) but no end marker`
            : ends[0].start < begins[0].start
              ? `the end marker (line ${ends[0].number}) comes before the begin marker (line ${begins[0].number})`
              : undefined;
  if (damage !== undefined) {
    throw new Error(
      `the managed block ${JSON.stringify(id)} is damaged: ${damage}. Fix the file by hand: delete every line that reads ${JSON.stringify(begin)} or ${JSON.stringify(end)} and what lies between a matching pair, then apply again`,
    );
  }
  return {
    start: begins[0].start,
    end: ends[0].next,
    content: existing.slice(begins[0].next, ends[0].start),
  };
}

/**
 * Insert, replace or remove the managed block `id` in a file's text.
 *
 * - no block yet: the block is appended at the end (after adding `\n` if the text is non-empty and does not
 *   end with one);
 * - a block already there: the marker lines and everything between them are replaced; no other byte of the
 *   file changes (CRLF line endings outside the block stay as they are; the block itself is written with
 *   `\n`);
 * - `block` undefined: the marker lines and everything between them are removed; if nothing is left the
 *   result is `undefined` (the file was ours alone: delete it);
 * - `existing` undefined (no file): the markers and the block, or `undefined` when there is no block.
 *
 * `block` always ends up ending with `\n`. Inserting and then removing gives back the original text
 * whenever it ended with `\n`; an empty original comes back as `undefined`.
 *
 * @param existing the file's current text, or `undefined` when there is no file.
 * @param id the block's id: `^[a-z0-9][a-z0-9._-]{0,62}$`, unique per owner and file.
 * @param block the block's content (without markers), or `undefined` to remove the block.
 * @throws {Error} for a bad id, damaged markers (see {@link findManagedBlock}), or a block that contains its
 *   own marker lines.
 */
export function spliceManagedBlock(
  existing: string | undefined,
  id: string,
  block: string | undefined,
): string | undefined {
  const location = findManagedBlock(existing, id);
  if (block === undefined) {
    if (existing === undefined || location === undefined) return existing;
    const rest = existing.slice(0, location.start) + existing.slice(location.end);
    return rest === "" ? undefined : rest;
  }
  const body = block === "" || block.endsWith("\n") ? block : `${block}\n`;
  for (const line of lines(body)) {
    if (line.text === beginMarker(id) || line.text === endMarker(id)) {
      throw new Error(
        `the content of managed block ${JSON.stringify(id)} must not contain its own marker lines`,
      );
    }
  }
  const fenced = `${beginMarker(id)}\n${body}${endMarker(id)}\n`;
  if (existing === undefined) return fenced;
  if (location !== undefined)
    return existing.slice(0, location.start) + fenced + existing.slice(location.end);
  const separator = existing === "" || existing.endsWith("\n") ? "" : "\n";
  return existing + separator + fenced;
}

/**
 * Remove the managed block `id` from a file's text: {@link spliceManagedBlock} with no block.
 *
 * @returns the text without the block, the text unchanged when it has no block, or `undefined` when nothing
 *   but the block was left (or there was no file).
 * @throws {Error} for a bad id or damaged markers.
 */
export function stripManagedBlock(existing: string | undefined, id: string): string | undefined {
  return spliceManagedBlock(existing, id, undefined);
}

interface Line {
  /** The line without its ending (`\n`, and a `\r` before it). */
  readonly text: string;
  /** 1-based line number. */
  readonly number: number;
  /** Offset of the line's first character. */
  readonly start: number;
  /** Offset just past the line's `\n` (or the end of the text). */
  readonly next: number;
}

function* lines(text: string): Generator<Line> {
  let start = 0;
  let number = 1;
  while (start < text.length) {
    const nl = text.indexOf("\n", start);
    const next = nl < 0 ? text.length : nl + 1;
    let body = text.slice(start, nl < 0 ? text.length : nl);
    if (body.endsWith("\r")) body = body.slice(0, -1);
    yield { text: body, number, start, next };
    start = next;
    number++;
  }
}

function checkId(id: string): void {
  if (typeof id !== "string" || !MANAGED_BLOCK_ID.test(id)) {
    throw new Error(
      `managed block id ${JSON.stringify(id)} must match ${MANAGED_BLOCK_ID.source} (lowercase letters, digits, ".", "_", "-"; at most 63 characters)`,
    );
  }
}
