/**
 * The shared table of managed-block splice cases. `spliceManagedBlock` (TypeScript) and its node-side shell
 * twin must both produce `expected` for every case.
 *
 * - `existing` undefined: there is no file;
 * - `block` undefined: remove the block;
 * - `expected` undefined: the result is "no file" (delete it / do not create it);
 * - `expected` `"error"`: the splice must fail and leave the file alone.
 */

/** One splice case. */
export interface SpliceCase {
  /** What the case shows. */
  readonly name: string;
  /** The file's text, or undefined for no file. */
  readonly existing?: string;
  /** The block id. */
  readonly id: string;
  /** The block content, or undefined to remove the block. */
  readonly block?: string;
  /** The resulting text, undefined for "no file", or "error". */
  readonly expected?: string | "error";
}

const B = "# >>> pulumi-registries registries (managed block: do not edit) >>>";
const E = "# <<< pulumi-registries registries <<<";
const OB = "# >>> pulumi-registries other (managed block: do not edit) >>>";
const OE = "# <<< pulumi-registries other <<<";
const ID = "registries";

/** Every case, insert/replace/remove/damage/CRLF. */
export const SPLICE_CASES: SpliceCase[] = [
  // insert
  { name: "no file, block: markers and block", id: ID, block: "x = 1\n", expected: `${B}\nx = 1\n${E}\n` },
  { name: "no file, no block: still no file", id: ID, expected: undefined },
  { name: "empty file, block", existing: "", id: ID, block: "x = 1\n", expected: `${B}\nx = 1\n${E}\n` },
  { name: "empty block", existing: "a\n", id: ID, block: "", expected: `a\n${B}\n${E}\n` },
  {
    name: "block without final newline gets one",
    existing: "a\n",
    id: ID,
    block: "x = 1",
    expected: `a\n${B}\nx = 1\n${E}\n`,
  },
  {
    name: "append after a final newline",
    existing: "a\nb\n",
    id: ID,
    block: "x\n",
    expected: `a\nb\n${B}\nx\n${E}\n`,
  },
  {
    name: "append after text without final newline",
    existing: "a\nb",
    id: ID,
    block: "x\n",
    expected: `a\nb\n${B}\nx\n${E}\n`,
  },
  {
    name: "append after blank lines keeps them",
    existing: "a\n\n\n",
    id: ID,
    block: "x\n",
    expected: `a\n\n\n${B}\nx\n${E}\n`,
  },
  {
    name: "multi-line block",
    existing: "a\n",
    id: ID,
    block: "[t]\nk = 1\n\n[u]\n",
    expected: `a\n${B}\n[t]\nk = 1\n\n[u]\n${E}\n`,
  },
  // replace
  {
    name: "replace in the middle",
    existing: `a\n${B}\nold\n${E}\nb\n`,
    id: ID,
    block: "new\nnew2\n",
    expected: `a\n${B}\nnew\nnew2\n${E}\nb\n`,
  },
  {
    name: "replace with the same block changes nothing",
    existing: `a\n${B}\nx\n${E}\nb\n`,
    id: ID,
    block: "x\n",
    expected: `a\n${B}\nx\n${E}\nb\n`,
  },
  {
    name: "replace at the start",
    existing: `${B}\nold\n${E}\nb\n`,
    id: ID,
    block: "new\n",
    expected: `${B}\nnew\n${E}\nb\n`,
  },
  {
    name: "replace an empty block",
    existing: `a\n${B}\n${E}\n`,
    id: ID,
    block: "new\n",
    expected: `a\n${B}\nnew\n${E}\n`,
  },
  {
    name: "replace when the end marker has no newline",
    existing: `a\n${B}\nold\n${E}`,
    id: ID,
    block: "new\n",
    expected: `a\n${B}\nnew\n${E}\n`,
  },
  {
    name: "text without final newline after the block stays so",
    existing: `${B}\nold\n${E}\ntail`,
    id: ID,
    block: "new\n",
    expected: `${B}\nnew\n${E}\ntail`,
  },
  // remove
  { name: "remove from the middle", existing: `a\n${B}\nold\n${E}\nb\n`, id: ID, expected: "a\nb\n" },
  { name: "remove from the end", existing: `a\n${B}\nold\n${E}\n`, id: ID, expected: "a\n" },
  { name: "remove the only content: no file", existing: `${B}\nold\n${E}\n`, id: ID, expected: undefined },
  {
    name: "remove when the end marker has no newline",
    existing: `a\n${B}\nold\n${E}`,
    id: ID,
    expected: "a\n",
  },
  { name: "remove when there is no block: unchanged", existing: "a\nb", id: ID, expected: "a\nb" },
  { name: "remove from an empty file: unchanged", existing: "", id: ID, expected: "" },
  { name: "remove with no file: no file", id: ID, expected: undefined },
  // other owners
  {
    name: "another owner's block is left alone on insert",
    existing: `a\n${OB}\no\n${OE}\n`,
    id: ID,
    block: "x\n",
    expected: `a\n${OB}\no\n${OE}\n${B}\nx\n${E}\n`,
  },
  {
    name: "another owner's block is left alone on replace",
    existing: `${OB}\no\n${OE}\n${B}\nold\n${E}\n${OB.replace("other", "third")}\n`,
    id: ID,
    block: "new\n",
    expected: `${OB}\no\n${OE}\n${B}\nnew\n${E}\n${OB.replace("other", "third")}\n`,
  },
  {
    name: "another owner's block is left alone on remove",
    existing: `${B}\nold\n${E}\n${OB}\no\n${OE}\n`,
    id: ID,
    expected: `${OB}\no\n${OE}\n`,
  },
  {
    name: "another owner's damaged block does not matter",
    existing: `${OB}\no\n`,
    id: ID,
    block: "x\n",
    expected: `${OB}\no\n${B}\nx\n${E}\n`,
  },
  {
    name: "a block may contain another owner's markers",
    existing: "a\n",
    id: ID,
    block: `${OB}\n${OE}\n`,
    expected: `a\n${B}\n${OB}\n${OE}\n${E}\n`,
  },
  {
    name: "an id that extends ours is another block",
    existing: `${B.replace("registries", "registries2")}\nq\n${E.replace("registries", "registries2")}\n`,
    id: ID,
    block: "x\n",
    expected: `${B.replace("registries", "registries2")}\nq\n${E.replace("registries", "registries2")}\n${B}\nx\n${E}\n`,
  },
  // CRLF
  {
    name: "CRLF: append keeps CRLF outside",
    existing: "a\r\nb\r\n",
    id: ID,
    block: "x\n",
    expected: `a\r\nb\r\n${B}\nx\n${E}\n`,
  },
  {
    name: "CRLF: markers with CR are found and replaced",
    existing: `a\r\n${B}\r\nold\r\n${E}\r\nb\r\n`,
    id: ID,
    block: "new\n",
    expected: `a\r\n${B}\nnew\n${E}\nb\r\n`,
  },
  { name: "CRLF: remove", existing: `a\r\n${B}\r\nold\r\n${E}\r\nb\r\n`, id: ID, expected: "a\r\nb\r\n" },
  {
    name: "CRLF: remove our LF block from a CRLF file",
    existing: `a\r\n${B}\nx\n${E}\n`,
    id: ID,
    expected: "a\r\n",
  },
  // near misses are not markers
  {
    name: "an indented marker is not a marker",
    existing: `  ${B}\n  ${E}\n`,
    id: ID,
    block: "x\n",
    expected: `  ${B}\n  ${E}\n${B}\nx\n${E}\n`,
  },
  {
    name: "a marker with trailing blanks is not a marker",
    existing: `${B} \n${E}\t\n`,
    id: ID,
    block: "x\n",
    expected: `${B} \n${E}\t\n${B}\nx\n${E}\n`,
  },
  // damage
  { name: "begin without end", existing: `a\n${B}\nx\n`, id: ID, block: "x\n", expected: "error" },
  { name: "begin without end, on remove", existing: `a\n${B}\nx\n`, id: ID, expected: "error" },
  { name: "end without begin", existing: `a\n${E}\n`, id: ID, block: "x\n", expected: "error" },
  { name: "end before begin", existing: `${E}\nx\n${B}\n`, id: ID, block: "x\n", expected: "error" },
  { name: "two begins", existing: `${B}\n${B}\nx\n${E}\n`, id: ID, block: "x\n", expected: "error" },
  { name: "two blocks", existing: `${B}\nx\n${E}\n${B}\ny\n${E}\n`, id: ID, expected: "error" },
  { name: "two ends", existing: `${B}\nx\n${E}\n${E}\n`, id: ID, block: "x\n", expected: "error" },
  { name: "block holds our own begin marker", existing: "a\n", id: ID, block: `${B}\n`, expected: "error" },
  { name: "block holds our own end marker", existing: "a\n", id: ID, block: `x\n${E}`, expected: "error" },
  // ids
  {
    name: "id with dots, dashes, underscores",
    id: "a.b-c_d",
    block: "x\n",
    expected:
      "# >>> pulumi-registries a.b-c_d (managed block: do not edit) >>>\nx\n# <<< pulumi-registries a.b-c_d <<<\n",
  },
  { name: "id with capitals", id: "Registries", block: "x\n", expected: "error" },
  { name: "empty id", id: "", block: "x\n", expected: "error" },
  { name: "id starting with a dash", id: "-x", block: "x\n", expected: "error" },
  { name: "id with a space", id: "a b", block: "x\n", expected: "error" },
  { name: "id of 64 characters", id: "a".repeat(64), block: "x\n", expected: "error" },
  { name: "id with a slash", id: "a/b", existing: "q\n", expected: "error" },
];
