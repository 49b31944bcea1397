/**
 * Merge of Docker's `/etc/docker/daemon.json`: adds and removes only our own entries of
 * `insecure-registries` and `registry-mirrors`, and keeps every other byte of the file.
 *
 * @module
 */
import { ConfigError, keyPath, Problem } from "../model/errors";
import { DEFAULT_REGISTRY, DOCKER_HUB, DOCKER_HUB_SERVER, RegistryModel } from "../model/types";
import { checkCertsDir, HostCertDir, RenderedFile, RenderWarning, rewriteProblems } from "./types";

/** The entries of the two `daemon.json` lists that this library manages. */
export interface DaemonJsonEntries {
  /** `insecure-registries` entries: `host[:port]`. */
  readonly insecureRegistries: readonly string[];
  /** `registry-mirrors` entries: `scheme://host[:port]`, in the order Docker tries them. */
  readonly registryMirrors: readonly string[];
}

/** Options of {@link dockerDaemonEntries}. */
export interface DockerDaemonOptions {
  /** Absolute directory Docker reads registry TLS files from. Defaults to `/etc/docker/certs.d`. */
  certsDir?: string;
  /**
   * dockerd accepts a path prefix in `registry-mirrors` (Docker 24.0.8 and 25.0 or later; older ones refuse to
   * start, or to reload, with one). Then a mirror whose API root is `<prefix>/v2` is written as
   * `scheme://host[:port]<prefix>` (dockerd appends `/v2/` to a mirror's URL). Defaults to `false`.
   */
  mirrorPaths?: boolean;
}

/**
 * The path prefix Docker needs for a mirror whose API root is `path` (`/cache/v2` → `/cache`, `/v2` → `""`), or
 * `undefined` when no prefix can express it (`/v2/<namespace>`: dockerd appends `/v2/` after the prefix).
 */
export function dockerMirrorPrefix(path: string): string | undefined {
  if (path === "" || path === "/v2") return "";
  return path.endsWith("/v2") ? path.slice(0, -3) : undefined;
}

/** What {@link dockerDaemonEntries} returns. */
export interface DockerDaemonEntries extends DaemonJsonEntries {
  /** `<certsDir>/<host[:port]>/ca.crt`, `client.cert` and `client.key` (secret, mode 0600). */
  readonly files: RenderedFile[];
  /** Settings Docker cannot express and that were safely left out. */
  readonly warnings: RenderWarning[];
}

/** Default directory of Docker's per-registry TLS files. */
export const DOCKER_CERTS_DIR = "/etc/docker/certs.d";

/** Options of {@link mergeDaemonJson}. */
export interface MergeDaemonJsonOptions extends DockerDaemonOptions {
  /** What the previous apply added (its `managed` result). Entries no longer declared are removed. */
  previous?: DaemonJsonEntries;
}

/** What {@link mergeDaemonJson} and {@link mergeDaemonJsonText} return. */
export interface DaemonJsonMerge {
  /** The new file, or `undefined` when there was no file and nothing is ours. */
  readonly content: string | undefined;
  /** The entries this library added (pass them as `previous` next time); never entries others wrote. */
  readonly managed: { insecureRegistries: string[]; registryMirrors: string[] };
  /** True when `content` differs from `existing`. */
  readonly changed: boolean;
}

const INSECURE = "insecure-registries";
const MIRRORS = "registry-mirrors";

/**
 * The `daemon.json` entries and `certs.d` files a registry model asks for, and what Docker cannot express.
 *
 * - `registry-mirrors`: Docker Hub mirrors only, as `scheme://host[:port]`, in declaration order (with
 *   {@link DockerDaemonOptions.mirrorPaths}, a mirror whose API root is `<prefix>/v2` as
 *   `scheme://host[:port]<prefix>`); a non-default Docker Hub `server` is added as the last mirror (Docker
 *   still falls back to Docker Hub after it: warning).
 * - `insecure-registries`: every plain-HTTP or skip-verify endpoint Docker uses: such registries by name
 *   (e.g. `10.141.241.175:32000`) and such Docker Hub mirrors by `host[:port]`; sorted.
 *
 * - `files`: CA and client certificates of the endpoints Docker uses, as Docker reads them:
 *   `<certsDir>/<host[:port]>/ca.crt` (every `*.crt` is a CA), `client.cert` and `client.key`.
 *
 * Dropped with a warning: mirrors of other registries (Docker only mirrors Docker Hub), path mirrors,
 * push-only mirrors, `_default`, a server on another host than the registry name, credentials, headers.
 *
 * @throws {ConfigError} for `fallback: false` (Docker always falls back to Docker Hub, and pulls any other
 *   registry from the registry itself), for two endpoints on one host with different TLS files, and for a
 *   bad `certsDir`.
 * @see https://docs.docker.com/reference/cli/dockerd/#daemon-configuration-file
 * @see https://docs.docker.com/engine/security/certificates/
 */
export function dockerDaemonEntries(
  model: RegistryModel,
  opts: DockerDaemonOptions = {},
): DockerDaemonEntries {
  const certsDir = checkCertsDir(opts.certsDir ?? DOCKER_CERTS_DIR, DOCKER_CERTS_DIR);
  const problems: Problem[] = rewriteProblems(model.registries, "Docker's daemon.json");
  const warnings: RenderWarning[] = [];
  const insecure = new Set<string>();
  const mirrors: string[] = [];
  const certs = new HostCertDir(certsDir, "Docker's certs.d");
  const warn = (path: string, message: string): void => void warnings.push({ path, message });
  const authWarning = (path: string): void =>
    warn(path, "daemon.json cannot hold credentials: use docker login (config.json) on the host");

  for (const reg of model.registries) {
    const path = keyPath("registries", reg.name);
    if (reg.name === DEFAULT_REGISTRY) {
      warn(path, "Docker has no catch-all mirror: _default dropped from daemon.json");
      continue;
    }
    const hub = reg.name === DOCKER_HUB;
    if (reg.noFallback) {
      problems.push({
        path: `${path}.fallback`,
        message: hub
          ? "false (no fallback) cannot be expressed in daemon.json: Docker always falls back to Docker Hub after its registry-mirrors; drop fallback: false or leave Docker hosts out"
          : `false (no fallback) cannot be expressed in daemon.json: Docker only mirrors Docker Hub and pulls ${JSON.stringify(reg.name)} images from ${reg.name} itself; drop fallback: false or leave Docker hosts out`,
      });
    }
    reg.mirrors.forEach((m, i) => {
      const mp = `${path}.mirrors[${i}]`;
      if (!hub) {
        warn(
          mp,
          `Docker only mirrors Docker Hub: mirror of ${JSON.stringify(reg.name)} dropped from daemon.json`,
        );
        return;
      }
      const prefix = dockerMirrorPrefix(m.path);
      if (prefix === undefined) {
        warn(
          `${mp}.endpoint`,
          `Docker appends /v2/ to a registry mirror's URL, so a mirror whose API root is ${JSON.stringify(m.path)} (not "<prefix>/v2") cannot be expressed: ${JSON.stringify(m.url)} dropped`,
        );
        return;
      }
      if (prefix !== "" && !opts.mirrorPaths) {
        warn(
          `${mp}.endpoint`,
          `Docker registry-mirrors take no path before Docker 24.0.8 and 25.0 (dockerd refuses to start with one): ${JSON.stringify(m.url)} dropped`,
        );
        return;
      }
      if (!m.capabilities.includes("pull") && !m.capabilities.includes("resolve")) {
        warn(
          `${mp}.capabilities`,
          "has neither pull nor resolve, so the mirror is never used to pull: dropped from daemon.json",
        );
        return;
      }
      if (m.capabilities.join(",") !== "pull,resolve") {
        warn(
          `${mp}.capabilities`,
          `daemon.json has no capabilities: Docker uses every mirror for pulls; ${JSON.stringify(m.capabilities)} dropped`,
        );
      }
      const headerNames = Object.keys(m.headers);
      if (headerNames.length > 0) {
        warn(
          `${mp}.headers`,
          `daemon.json cannot send extra HTTP headers: ${headerNames.join(", ")} dropped`,
        );
      }
      if (m.auth) authWarning(`${mp}.auth`);
      certs.add(m.authority, mp, m.tls, problems);
      if (m.scheme === "http" || m.tls.insecureSkipVerify) insecure.add(m.authority);
      mirrors.push(`${m.scheme}://${m.authority}${prefix}`);
    });
    const server = reg.server;
    if (!server) continue;
    if (server.auth) authWarning(`${path}.auth`);
    if (hub) {
      if (server.url !== DOCKER_HUB_SERVER) {
        warn(
          `${path}.server`,
          `Docker always falls back to Docker Hub: ${JSON.stringify(server.url)} added as the last registry mirror instead`,
        );
        if (server.scheme === "http" || server.tls.insecureSkipVerify) insecure.add(server.authority);
        certs.add(server.authority, path, server.tls, problems);
        mirrors.push(`${server.scheme}://${server.authority}`);
      }
      continue;
    }
    if (server.authority !== reg.name) {
      warn(
        `${path}.server`,
        `Docker pulls ${JSON.stringify(reg.name)} images from ${reg.name} itself: server ${JSON.stringify(server.url)} dropped from daemon.json`,
      );
      continue;
    }
    if (server.scheme === "http" || server.tls.insecureSkipVerify) insecure.add(reg.name);
    certs.add(server.authority, path, server.tls, problems);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const files = certs.files();
  return {
    insecureRegistries: [...insecure].sort(),
    registryMirrors: [...new Set(mirrors)],
    files,
    warnings,
  };
}

/**
 * Merge the registry model into an existing `daemon.json` text, touching only our entries.
 *
 * See {@link dockerDaemonEntries} for what is declared and {@link mergeDaemonJsonText} for the merge rules.
 *
 * @param existing the current file, or `undefined` when there is none.
 * @returns the merge plus the TLS files and warnings of {@link dockerDaemonEntries}.
 * @throws {ConfigError} when the model asks for something Docker cannot do safely, or the file is not a
 *   JSON object (the file's content is never part of the message).
 * @see https://docs.docker.com/reference/cli/dockerd/#daemon-configuration-file
 */
export function mergeDaemonJson(
  existing: string | undefined,
  model: RegistryModel,
  opts: MergeDaemonJsonOptions = {},
): DaemonJsonMerge & { files: RenderedFile[]; warnings: RenderWarning[] } {
  const { warnings, files, ...declared } = dockerDaemonEntries(model, opts);
  return { ...mergeDaemonJsonText(existing, declared, opts.previous), files, warnings };
}

interface Member {
  key: string;
  keyStart: number;
  valueStart: number;
  valueEnd: number;
}

/**
 * Merge declared entries into a `daemon.json` text with a text-span edit, so that every byte outside our
 * two arrays stays as it was (key order, comments-free formatting, escapes, CRLF, trailing newline).
 *
 * Rules:
 * - entries someone else wrote stay, in their order, and are never claimed, even when we declare them;
 * - entries of `previous` that are no longer declared are removed; ours follow the others' entries, in
 *   declared order;
 * - an array whose entries do not change is not rewritten at all; a rewritten array keeps its layout: one
 *   line (`["a", "b"]`) when it was on one line, else one entry per line with the file's indentation;
 * - a missing member is inserted after the last member (one-line array, the members' indentation and line
 *   ending; inline after `, ` in a one-line object); an empty object becomes multi-line with two spaces;
 * - a missing or blank file becomes `{\n  "insecure-registries": ["a"],\n  "registry-mirrors": ["b"]\n}\n`
 *   (the empty object plus inserts) with only the non-empty lists, or stays as it was when nothing is ours;
 * - a list that becomes empty is kept as `[]` (the node layer restores the original file on destroy).
 *
 * @throws {ConfigError} at path `daemon.json` when the text is not a JSON object, when one of our members is
 *   not a list of strings or appears twice. The file's content is never part of the message.
 */
export function mergeDaemonJsonText(
  existing: string | undefined,
  declared: DaemonJsonEntries,
  previous: DaemonJsonEntries = { insecureRegistries: [], registryMirrors: [] },
): DaemonJsonMerge {
  const keys = [
    { key: INSECURE, want: declared.insecureRegistries, prev: previous.insecureRegistries },
    { key: MIRRORS, want: declared.registryMirrors, prev: previous.registryMirrors },
  ];
  if (existing === undefined || existing.trim() === "") {
    // A new file is the empty object with our members inserted: the same layout as an insert anywhere.
    const created = mergeDaemonJsonText("{}\n", declared);
    if (created.content === "{}\n") return { content: existing, managed: created.managed, changed: false };
    return { ...created, changed: created.content !== existing };
  }

  const bom = existing.startsWith("\uFEFF") ? 1 : 0;
  let parsed: unknown;
  try {
    parsed = JSON.parse(existing.slice(bom));
  } catch {
    throw fileError("is not valid JSON: fix or remove the file (its content is not shown)");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw fileError("must be a JSON object ({ ... }): fix or remove the file");
  }
  const { open, close, members } = scanObject(existing, bom);
  const eol = existing.includes("\r\n") ? "\r\n" : "\n";
  const edits: { start: number; end: number; text: string }[] = [];
  const inserts: string[] = [];
  const managed = { insecureRegistries: [] as string[], registryMirrors: [] as string[] };

  for (const { key, want, prev } of keys) {
    const found = members.filter((m) => m.key === key);
    if (found.length > 1) throw fileError(`has ${JSON.stringify(key)} twice: merge the two lists by hand`);
    const member = found[0];
    let current: string[] = [];
    if (member) {
      const value: unknown = JSON.parse(existing.slice(member.valueStart, member.valueEnd));
      if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
        throw fileError(`${JSON.stringify(key)} must be a list of strings: fix it by hand`);
      }
      current = value as string[];
    }
    const prevSet = new Set(prev);
    const others = current.filter((e) => !prevSet.has(e));
    const othersSet = new Set(others);
    const ours = [...new Set(want)].filter((e) => !othersSet.has(e));
    const next = [...others, ...ours];
    (key === INSECURE ? managed.insecureRegistries : managed.registryMirrors).push(...ours);
    if (member) {
      if (JSON.stringify(next) !== JSON.stringify(current)) {
        edits.push({
          start: member.valueStart,
          end: member.valueEnd,
          text: renderArray(existing, member, next, eol),
        });
      }
    } else if (next.length > 0) {
      inserts.push(`${JSON.stringify(key)}: ${renderArray(existing, undefined, next, eol)}`);
    }
  }

  if (inserts.length > 0) {
    if (members.length === 0) {
      edits.push({
        start: open + 1,
        end: close,
        text: eol + inserts.map((i) => `  ${i}`).join("," + eol) + eol,
      });
    } else {
      const first = members[0];
      const last = members[members.length - 1];
      const multiLine = /[\r\n]/.test(existing.slice(open + 1, first.keyStart));
      const sep = multiLine ? "," + eol + lineIndent(existing, first.keyStart) : ", ";
      edits.push({ start: last.valueEnd, end: last.valueEnd, text: inserts.map((i) => sep + i).join("") });
    }
  }
  let content = existing;
  for (const e of edits.sort((a, b) => b.start - a.start)) {
    content = content.slice(0, e.start) + e.text + content.slice(e.end);
  }
  return { content, managed, changed: content !== existing };
}

function fileError(message: string): ConfigError {
  return new ConfigError([{ path: "daemon.json", message }]);
}

/** The whitespace between the start of the line and `pos`, or "" when something else precedes it. */
function lineIndent(text: string, pos: number): string {
  const lineStart = Math.max(text.lastIndexOf("\n", pos - 1) + 1, 0);
  const before = text.slice(lineStart, pos);
  return /^[ \t]*$/.test(before) ? before : "";
}

function renderArray(text: string, member: Member | undefined, items: string[], eol: string): string {
  const quoted = items.map((i) => JSON.stringify(i));
  const original = member ? text.slice(member.valueStart, member.valueEnd) : "";
  if (!member || !/\n/.test(original) || items.length === 0) return `[${quoted.join(", ")}]`;
  const closeIndent = lineIndent(text, member.keyStart);
  const firstItem = /\[[ \t]*\r?\n([ \t]*)[^\s\]]/.exec(original);
  const itemIndent = firstItem && firstItem[1] !== "" ? firstItem[1] : closeIndent + (closeIndent || "  ");
  return `[${eol}${quoted.map((q) => itemIndent + q).join("," + eol)}${eol}${closeIndent}]`;
}

/** Find the spans of the top-level members of a JSON object text that JSON.parse accepted. */
function scanObject(text: string, from: number): { open: number; close: number; members: Member[] } {
  let i = skipWs(text, from);
  const open = i;
  i = skipWs(text, i + 1);
  const members: Member[] = [];
  while (text[i] !== "}") {
    const keyStart = i;
    const keyEnd = skipValue(text, i);
    const key = JSON.parse(text.slice(keyStart, keyEnd)) as string;
    i = skipWs(text, skipWs(text, keyEnd) + 1); // past ":"
    const valueStart = i;
    const valueEnd = skipValue(text, i);
    members.push({ key, keyStart, valueStart, valueEnd });
    i = skipWs(text, valueEnd);
    if (text[i] === ",") i = skipWs(text, i + 1);
  }
  return { open, close: i, members };
}

function skipWs(text: string, i: number): number {
  while (i < text.length && " \t\r\n".includes(text[i])) i++;
  return i;
}

/** The index just past the JSON value that starts at `i`. */
function skipValue(text: string, i: number): number {
  const c = text[i];
  if (c === '"') {
    i++;
    while (text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    return i + 1;
  }
  if (c === "{" || c === "[") {
    let depth = 0;
    for (;;) {
      const d = text[i];
      if (d === '"') {
        i = skipValue(text, i);
        continue;
      }
      if (d === "{" || d === "[") depth++;
      else if (d === "}" || d === "]") depth--;
      i++;
      if (depth === 0) return i;
    }
  }
  while (i < text.length && !",}] \t\r\n".includes(text[i])) i++;
  return i;
}
