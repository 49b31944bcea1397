/**
 * Turns on containerd's `config_path` (the `certs.d` directory of `hosts.toml` files) in an existing
 * `config.toml` with a line-based edit that leaves every other byte alone, then proves the edit by parsing.
 *
 * The node layer has a shell (awk) twin of {@link enableConfigPath}; both are checked against the table in
 * `test/render/configPath.cases.ts`.
 *
 * @see https://github.com/containerd/containerd/blob/main/docs/hosts.md#cri
 * @module
 */
import * as TOML from "@iarna/toml";
import { ConfigError } from "../model/errors";

/** Options of {@link enableConfigPath}. */
export interface EnableConfigPathOptions {
  /** The directory of `hosts.toml` files, e.g. `/etc/containerd/certs.d`. Must not contain `:` or a newline. */
  readonly configPath: string;
  /**
   * containerd's major version: when there is no file yet, `1` writes a `version = 2` file, `2` a `version = 3`
   * file; on `2`, a `config_path` that is exactly containerd 2.2.0/2.2.1's default list
   * (`/etc/containerd/certs.d:/etc/docker/certs.d`) is replaced by `configPath` alone, since containerd 2.1+ pulls
   * through its transfer service, which takes that list as one directory. Defaults to `1`.
   */
  readonly containerdMajor?: 1 | 2;
  /** A name for the file in error messages. Defaults to `"containerd config.toml"`. */
  readonly file?: string;
}

/** The result of {@link enableConfigPath}. */
export interface EnableConfigPathResult {
  /** The new text of `config.toml`. */
  readonly content: string;
  /** False when the file already had `configPath` in its `config_path` (content is then the input). */
  readonly changed: boolean;
  /** The config version of the file (absent `version` is 1). */
  readonly version: 1 | 2 | 3 | 4;
}

/**
 * The `config_path` containerd 2.2.0 and 2.2.1 put in their defaults (`containerd config default` prints it): two
 * directories, which containerd 2.1+ reads as one (containerd#12636; notes/runtimes.md §1.7, §1.9).
 */
export const CONTAINERD_22_DEFAULT_CONFIG_PATH = "/etc/containerd/certs.d:/etc/docker/certs.d";

/**
 * The registry table of the CRI plugin, as TOML key segments, for each config version (4, containerd 2.3+,
 * keeps version 3's CRI plugins).
 */
export const REGISTRY_TABLE: Readonly<Record<1 | 2 | 3 | 4, readonly string[]>> = {
  1: ["plugins", "cri", "registry"],
  2: ["plugins", "io.containerd.grpc.v1.cri", "registry"],
  3: ["plugins", "io.containerd.cri.v1.images", "registry"],
  4: ["plugins", "io.containerd.cri.v1.images", "registry"],
};

/**
 * Make containerd's CRI plugin read `hosts.toml` files from `configPath`, editing an existing `config.toml`.
 *
 * Finds the registry table header of the file's version (`[plugins.cri.registry]`,
 * `[plugins."io.containerd.grpc.v1.cri".registry]` or `[plugins."io.containerd.cri.v1.images".registry]`,
 * with any spacing and quoting), then: an equal `config_path` → unchanged; an empty one → set; on containerd 2,
 * containerd 2.2.0/2.2.1's default list → replaced; another `:`-separated list that lacks `configPath` →
 * `"<configPath>:<old>"`; none → a `config_path` line right
 * after the header; no table → the table appended at the end. No file (or an empty one) → a minimal file. Line endings
 * (CRLF) follow the file's.
 *
 * @throws {ConfigError} when the file does not parse, has non-empty `registry.mirrors` (containerd refuses them
 *   together with `config_path`, whether written as tables, dotted keys or inline tables), sets any part of the
 *   registry table with dotted keys or an inline table from a parent table (the line-based edit cannot see
 *   them; the node's awk twin refuses the same lines), or the edit could not be proven by parsing; the message
 *   says to set `config_path` by hand and gives positions only.
 * @see https://github.com/containerd/containerd/blob/main/docs/cri/config.md#registry-configuration
 */
export function enableConfigPath(
  existing: string | undefined,
  opts: EnableConfigPathOptions,
): EnableConfigPathResult {
  const file = opts.file ?? "containerd config.toml";
  const fail = (message: string): never => {
    throw new ConfigError([{ path: file, message }]);
  };
  const handFix = `set config_path = ${JSON.stringify(opts.configPath)} in the registry table by hand, then apply again`;
  if (opts.configPath === "" || /[:\r\n]/.test(opts.configPath)) {
    throw new Error(
      `configPath ${JSON.stringify(opts.configPath)} must be a non-empty directory path without ":" or a newline`,
    );
  }
  // An empty file is containerd's defaults, the same as no file: write the minimal file of the right version.
  if (existing === undefined || existing === "") {
    const version = opts.containerdMajor === 2 ? 3 : 2;
    const content = `version = ${version}\n\n[${tableHeader(REGISTRY_TABLE[version])}]\n  ${assignment(opts.configPath)}\n`;
    return { content, changed: true, version };
  }

  const before = parseToml(existing);
  if (before instanceof Error) fail(`does not parse as TOML (${tomlErrorPosition(before)}): ${handFix}`);
  const doc = before as TOML.JsonMap;
  const rawVersion = doc.version ?? 1;
  if (rawVersion !== 1 && rawVersion !== 2 && rawVersion !== 3 && rawVersion !== 4) {
    fail(
      `has version = ${JSON.stringify(rawVersion)}, which this library does not know (1 to 4): ${handFix}`,
    );
  }
  const version = rawVersion as 1 | 2 | 3 | 4;
  const table = REGISTRY_TABLE[version];
  const registry = tomlGet(doc, table);
  if (isTomlTable(registry) && isTomlTable(registry.mirrors) && Object.keys(registry.mirrors).length > 0) {
    fail(
      `has registry.mirrors entries (${Object.keys(registry.mirrors)
        .map((k) => JSON.stringify(k))
        .join(
          ", ",
        )}), which containerd refuses together with config_path ("\`mirrors\` cannot be set when \`config_path\` is provided"): move them into the registry declaration, delete them from the file, then apply again`,
    );
  }
  if (version < 3 && isTomlTable(registry) && isTomlTable(registry.configs)) {
    const withTls = Object.entries(registry.configs).filter(([, c]) => isTomlTable(c) && c.tls !== undefined);
    if (withTls.length > 0) {
      fail(
        `has registry.configs TLS settings (${withTls.map(([k]) => JSON.stringify(k)).join(", ")}), which containerd 1.x refuses together with config_path ("\`configs.tls\` cannot be set when \`config_path\` is provided"): move them into the registry declaration, delete them from the file, then apply again`,
      );
    }
  }

  const inline = dottedRegistryLine(existing, table);
  if (inline > 0) {
    fail(
      `sets the registry table (or a part of it) with a dotted key or an inline table from a parent table (line ${inline}); containerd would read it, but it cannot be combined with config_path line by line: write it as [${tableHeader(table)}] tables, then apply again`,
    );
  }

  const current = isTomlTable(registry) ? registry.config_path : undefined;
  if (current !== undefined && typeof current !== "string")
    fail(`has a config_path that is not a string: ${handFix}`);
  const wanted =
    current === undefined ||
    current === "" ||
    (opts.containerdMajor === 2 && current === CONTAINERD_22_DEFAULT_CONFIG_PATH)
      ? opts.configPath
      : (current as string).split(":").includes(opts.configPath)
        ? undefined
        : `${opts.configPath}:${current as string}`;
  if (wanted === undefined) return { content: existing, changed: false, version };

  const eol = /\r\n/.test(existing) ? "\r\n" : "\n";
  const lines = splitLines(existing);
  const headerIndex = lines.findIndex((l) => sameKeys(headerKeys(l.text), table));
  let content: string;
  if (headerIndex < 0) {
    const separator = existing === "" || existing.endsWith("\n") ? "" : eol;
    content = `${existing}${separator}${eol}[${tableHeader(table)}]${eol}  ${assignment(wanted)}${eol}`;
  } else {
    let keyIndex = -1;
    for (let i = headerIndex + 1; i < lines.length && !/^\s*\[/.test(lines[i].text); i++) {
      if (KEY_LINE.test(lines[i].text)) {
        keyIndex = i;
        break;
      }
    }
    if (keyIndex < 0) {
      const header = lines[headerIndex];
      const indent = /^[ \t]*/.exec(header.text)![0];
      const lineEnd = header.end || eol;
      const insert = `${indent}  ${assignment(wanted)}${lineEnd}`;
      content =
        header.end === ""
          ? `${existing}${eol}${insert}`
          : existing.slice(0, header.next) + insert + existing.slice(header.next);
    } else {
      const line = lines[keyIndex];
      const m = KEY_LINE.exec(line.text)!;
      const valueEnd = stringTokenEnd(line.text, m[0].length);
      if (valueEnd < 0 || !/^\s*(#.*)?$/.test(line.text.slice(valueEnd))) {
        fail(`has a config_path value that cannot be edited line by line (line ${keyIndex + 1}): ${handFix}`);
      }
      const text = line.text.slice(0, m[0].length) + quote(wanted) + line.text.slice(valueEnd);
      content = existing.slice(0, line.start) + text + existing.slice(line.start + line.text.length);
    }
  }

  const after = parseToml(content);
  if (after instanceof Error) {
    fail(
      `could not take config_path: the edited file no longer parses (${tomlErrorPosition(after)}), probably because the registry table is written with dotted keys or as an inline table; ${handFix}`,
    );
  }
  if (tomlGet(after as TOML.JsonMap, [...table, "config_path"]) !== wanted) {
    fail(
      `could not take config_path: after the edit it does not hold the new value (the table may be written in a form this edit does not recognise); ${handFix}`,
    );
  }
  return { content, changed: true, version };
}

const KEY_LINE = /^[ \t]*(?:config_path|"config_path"|'config_path')[ \t]*=[ \t]*/;

/** `config_path = "<value>"`, serialised by the TOML library. */
function assignment(value: string): string {
  return TOML.stringify({ config_path: value }).trimEnd();
}

function quote(value: string): string {
  return assignment(value).replace(/^config_path = /, "");
}

/** The header text of a table path: bare keys where TOML allows them, double-quoted otherwise. */
function tableHeader(keys: readonly string[]): string {
  return keys.map((k) => (/^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k))).join(".");
}

/**
 * The 1-based number of the first line that reaches into the registry table from a parent table (or the top
 * level) with a dotted key (`registry.mirrors."x".endpoint = …` under the CRI table) or an inline table
 * (`registry = { … }`), or 0. Line-based, like the node's awk twin, so that both refuse the same files.
 */
function dottedRegistryLine(text: string, table: readonly string[]): number {
  let current: string[] = [];
  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) {
    const header = headerKeys(lines[i].text);
    if (header !== undefined) {
      current = header;
      continue;
    }
    if (current.length >= table.length) continue;
    const keys = keyLineKeys(lines[i].text);
    if (keys === undefined) continue;
    const full = [...current, ...keys];
    if (full.slice(0, table.length).every((k, j) => k === table[j])) return i + 1;
  }
  return 0;
}

/**
 * The key segments (bare, "basic" or 'literal', dot-separated) at the start of `text`, up to where `done` says the
 * key ends; undefined if the text does not start with such a key.
 */
function dottedKeys(text: string, done: (rest: string) => boolean): string[] | undefined {
  const keys: string[] = [];
  let rest = text;
  for (;;) {
    const k = /^[ \t]*(?:([A-Za-z0-9_-]+)|"((?:[^"\\]|\\.)*)"|'([^']*)')[ \t]*/.exec(rest);
    if (!k) return undefined;
    if (k[1] !== undefined) keys.push(k[1]);
    else if (k[3] !== undefined) keys.push(k[3]);
    else {
      try {
        keys.push(JSON.parse(`"${k[2]}"`) as string);
      } catch {
        return undefined;
      }
    }
    rest = rest.slice(k[0].length);
    if (done(rest)) return keys;
    if (!rest.startsWith(".")) return undefined;
    rest = rest.slice(1);
  }
}

/** The dotted key of a `a."b".'c' = value` line, or undefined if the line is not a key line. */
function keyLineKeys(line: string): string[] | undefined {
  return dottedKeys(line, (rest) => rest.startsWith("="));
}

/** The key segments of a `[table]` header line, or undefined if the line is not one. */
function headerKeys(line: string): string[] | undefined {
  const m = /^[ \t]*\[(?!\[)(.*)\][ \t]*(#.*)?$/.exec(line);
  return m ? dottedKeys(m[1], (rest) => rest === "") : undefined;
}

function sameKeys(a: string[] | undefined, b: readonly string[]): boolean {
  return a !== undefined && a.length === b.length && a.every((k, i) => k === b[i]);
}

/** Offset just past a one-line basic or literal string starting at `from`, or -1. */
function stringTokenEnd(line: string, from: number): number {
  const q = line[from];
  if ((q !== '"' && q !== "'") || line.startsWith(q.repeat(3), from)) return -1;
  for (let i = from + 1; i < line.length; i++) {
    if (q === '"' && line[i] === "\\") i++;
    else if (line[i] === q) return i + 1;
  }
  return -1;
}

interface Line {
  text: string;
  start: number;
  /** The line ending: "\n", "\r\n" or "" for a last line without one. */
  end: string;
  next: number;
}

function splitLines(text: string): Line[] {
  const out: Line[] = [];
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf("\n", start);
    const stop = nl < 0 ? text.length : nl;
    const cr = stop > start && text[stop - 1] === "\r";
    out.push({
      text: text.slice(start, cr ? stop - 1 : stop),
      start,
      end: nl < 0 ? "" : cr ? "\r\n" : "\n",
      next: nl < 0 ? text.length : nl + 1,
    });
    start = nl < 0 ? text.length : nl + 1;
  }
  return out;
}

/**
 * Parse TOML, returning the error instead of throwing. CRLF is read as LF first: @iarna/toml 3.0 rejects the
 * CR of a CRLF line ending after a comment ("Control characters … are not allowed in comments"), which TOML
 * allows and containerd accepts. Line numbers stay the same.
 * @internal
 */
export function parseToml(text: string): TOML.JsonMap | Error {
  try {
    return TOML.parse(text.replace(/\r\n/g, "\n"));
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
}

/** "line L, column C" (1-based) of a TOML parse error; never any of the text. @internal */
export function tomlErrorPosition(e: Error): string {
  const { line, col } = e as Error & { line?: number; col?: number };
  return typeof line === "number" && typeof col === "number"
    ? `line ${line + 1}, column ${col + 1}`
    : "position unknown";
}

/** The value at a key path, or undefined. @internal */
export function tomlGet(doc: TOML.JsonMap, path: readonly string[]): unknown {
  let cur: unknown = doc;
  for (const k of path) {
    if (!isTomlTable(cur) || !Object.prototype.hasOwnProperty.call(cur, k)) return undefined;
    cur = cur[k];
  }
  return cur;
}

/** True for a TOML table (not an array or a date). @internal */
export function isTomlTable(v: unknown): v is TOML.JsonMap {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}
