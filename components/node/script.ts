/**
 * Turns a {@link NodePlan} into the one POSIX `sh` script that applies it on the node. The command text that
 * runs it is fixed (`/bin/sh -s -- apply`); the script, with every file's content embedded as a base64
 * here-doc, travels on stdin (with dash, data placed after the script on stdin would be lost).
 *
 * The script's behaviour lives in `sh/lib.sh` and the awk programs next to it; this module only writes the
 * header (settings, the payload, the service commands) in front of them. Pure: same plan, same bytes.
 *
 * @module
 */
import * as fs from "fs";
import * as path from "path";
import * as zlib from "zlib";
import { ConfigError, Problem, show } from "../model/errors";
import { beginMarker, endMarker } from "../render/managedBlock";
import { Health, PlanEntry } from "./entries";
import { NodePlan, OWNER_RE } from "./plan";
import { checkNodePath } from "./profiles";
import { ScriptMode, SUMMARY_PREFIX } from "./summary";

/**
 * Version of the script format (printed in every summary line). 2: journalled switch, flock, one manifest file
 * per owner with node identity and allowed directories; a node's format-1 state is refused, not converted.
 */
export const SCRIPT_FORMAT = 2;

/** What a part name must look like (it names the part's state directory on the node). */
const PART_RE = /^[a-z]{1,16}$/;

const ID_PROBE = "id-placeholder";
/**
 * The managed-block marker lines with `@ID@` where the block id goes, from the same functions the TypeScript
 * renderer uses (the node's awk twin gets them in the script header, so the two cannot drift apart).
 */
export const MARKER_TEMPLATES: { readonly begin: string; readonly end: string } = {
  begin: template(beginMarker(ID_PROBE)),
  end: template(endMarker(ID_PROBE)),
};

function template(marker: string): string {
  const parts = marker.split(ID_PROBE);
  if (parts.length !== 2)
    throw new Error(`internal: the marker ${JSON.stringify(marker)} must hold its id once`);
  return parts.join("@ID@");
}

/** Options of {@link buildNodeScript}. */
export interface ScriptOptions {
  /**
   * What to do when a managed file was edited by hand since the last apply: `"overwrite"` puts the declared
   * content back and reports the path as drift; `"fail"` changes nothing and fails. Defaults to `"overwrite"`.
   */
  drift?: "overwrite" | "fail";
  /** How long an apply waits for another one on the same node, in seconds. Defaults to 120. */
  lockWaitSeconds?: number;
  /** Where the node keeps its record of managed files and backups. Defaults to `/var/lib/pulumi-registries`. */
  stateRoot?: string;
}

const SH_DIR = path.join(__dirname, "sh");
/** The awk programs, as the header variables that carry them. */
const AWK_FILES: Record<string, string> = {
  P_AWK_SPLICE: "splice.awk",
  P_AWK_CONFIG_PATH: "configPath.awk",
  P_AWK_JSON: "jsonArrays.awk",
  P_AWK_STAGE: "stage.awk",
  P_AWK_PLAN: "plan.awk",
  P_AWK_MERGED: "containerdMerged.awk",
};
let library: { lib: string; awk: [string, string][] } | undefined;
/** The compacted library per set of regions kept (see {@link libraryFor}). */
const libraries = new Map<string, string>();

/**
 * Drop what only a reader needs (comment lines, comments after code, blank lines, indentation): the library travels
 * to every node on every run and is stored in the stack's state. Safe for these files: no here-doc or multi-line
 * string in them but awk programs (where indentation does not matter), and every line continuation has a blank
 * before its backslash.
 */
function compact(text: string): string {
  return text
    .split("\n")
    .map((l) => dropTrailingComment(l.replace(/^[ \t]+/, "")))
    .filter((l) => l !== "" && !l.startsWith("#"))
    .join("\n")
    .concat("\n");
}

/**
 * A line without the comment after its code, when nothing before the " #" can make it part of a word, a string
 * or a regular expression (no quote, backquote, slash or backslash before it); else the line as it is.
 */
function dropTrailingComment(line: string): string {
  const i = line.indexOf(" #");
  if (i <= 0 || /['"`/\\]/.test(line.slice(0, i))) return line;
  return line.slice(0, i).trimEnd();
}

function lib() {
  library ??= {
    lib: fs.readFileSync(path.join(SH_DIR, "lib.sh"), "utf8"),
    awk: Object.entries(AWK_FILES).map(([name, file]) => [
      name,
      compact(fs.readFileSync(path.join(SH_DIR, file), "utf8")),
    ]),
  };
  return library;
}

/** Quote one word for POSIX sh: `'…'` with embedded quotes as `'\''`. */
export function shQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The fixed command text that runs a node script read from stdin.
 *
 * @param mode what the script should do.
 * @param sudo run it through `sudo -n` (the connection user is not root). Defaults to `false`.
 */
export function nodeCommand(mode: ScriptMode, sudo = false): string {
  return `${sudo ? "sudo -n " : ""}/bin/sh -s -- ${mode}`;
}

function base64Lines(content: string): string {
  const b64 = Buffer.from(content, "utf8").toString("base64");
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return lines.join("\n");
}

/** Check script options without a plan (so that components can refuse them at construction). */
export function checkScriptOptions(options: ScriptOptions): Problem[] {
  const problems: Problem[] = [];
  const { drift, lockWaitSeconds, stateRoot } = options;
  if (drift !== undefined && drift !== "overwrite" && drift !== "fail") {
    problems.push({ path: "drift", message: `${show(drift)} is not allowed: use "overwrite" or "fail"` });
  }
  if (
    lockWaitSeconds !== undefined &&
    (!Number.isInteger(lockWaitSeconds) || lockWaitSeconds < 0 || lockWaitSeconds > 3600)
  ) {
    problems.push({
      path: "lockWaitSeconds",
      message: `${show(lockWaitSeconds)} must be a whole number of seconds from 0 to 3600`,
    });
  }
  const rootErr = stateRoot === undefined ? undefined : checkNodePath(stateRoot);
  if (rootErr) problems.push({ path: "stateRoot", message: rootErr });
  return problems;
}

/**
 * Build the node script for a plan. The result holds every file's content (base64), so treat it as secret
 * whenever `plan.secret` is true.
 *
 * @throws {ConfigError} for bad options.
 */
export function buildNodeScript(plan: NodePlan, options: ScriptOptions = {}): string {
  return `#!/bin/sh\n${nodeLine(plan.node)}${scriptBody(plan, options)}`;
}

/** The line that names the node (the only line of a script that differs between nodes with the same plan). */
function nodeLine(node: string): string {
  return `P_NODE=${shQuote(node)}\n`;
}

/**
 * Everything of a node script but the line that names the node (`P_NODE`, set before it runs): the settings, the
 * services, the probes, the payload and the library. Nodes that share a plan share this text byte for byte.
 *
 * @throws {ConfigError} for bad options.
 */
export function scriptBody(plan: NodePlan, options: ScriptOptions = {}): string {
  const drift = options.drift ?? "overwrite";
  const lockWait = options.lockWaitSeconds ?? 120;
  const stateRoot = options.stateRoot ?? "/var/lib/pulumi-registries";
  const problems = checkScriptOptions(options);
  if (!OWNER_RE.test(plan.owner)) problems.push({ path: "owner", message: `must match ${OWNER_RE}` });
  if (plan.part !== undefined && !PART_RE.test(plan.part)) {
    problems.push({
      path: "part",
      message: `${show(plan.part)} must match ${PART_RE} (it names a state directory)`,
    });
  }
  const encoded = plan.entries.map((e) => {
    const at = `entries[${JSON.stringify(e.path)}]`;
    const err = checkNodePath(e.path);
    if (err) problems.push({ path: at, message: err });
    const enc = encodeEntry(e);
    // The node decodes the payload with awk, one character a byte: a NUL byte cannot travel (no config has one).
    if (enc.content.includes("\u0000")) problems.push({ path: at, message: "must not contain a NUL byte" });
    return enc;
  });
  plan.services.forEach((svc) => {
    if (svc.health) problems.push(...checkHealth(svc.health, `services[${JSON.stringify(svc.name)}].health`));
  });
  if (problems.length) throw new ConfigError(problems);

  const out: string[] = [];
  out.push(
    `# pulumi-registries node script, format ${SCRIPT_FORMAT}. Generated: do not edit. Run: sh -s -- apply|check|destroy\n`,
  );
  out.push(`P_OWNER=${shQuote(plan.owner)}\n`);
  out.push(`P_ROOT=${shQuote(stateRoot)}\n`);
  out.push(`P_DRIFT=${shQuote(drift)}\n`);
  out.push(`P_LOCK_WAIT=${lockWait}\n`);
  if (plan.part) out.push(`P_PART=${shQuote(plan.part)}\n`);
  const configPathEntry = plan.entries.find((e) => e.kind === "config-path");
  if (configPathEntry) out.push(`P_CONTAINERD_MAJOR=${configPathEntry.containerdMajor}\n`);
  // Constants shared with the TypeScript side, so that the node cannot drift from it.
  out.push(`P_FORMAT=${SCRIPT_FORMAT}\n`);
  out.push(`P_SUMMARY_PREFIX=${shQuote(SUMMARY_PREFIX)}\n`);
  out.push(`P_MARK_BEGIN=${shQuote(MARKER_TEMPLATES.begin)}\n`);
  out.push(`P_MARK_END=${shQuote(MARKER_TEMPLATES.end)}\n`);

  out.push("p_services() {\n  :\n");
  for (const svc of plan.services) {
    for (const action of ["restart", "reload"] as const) {
      const argv = svc[action];
      if (argv) out.push(`  p_service ${shQuote(svc.name)} ${action} ${argv.map(shQuote).join(" ")}\n`);
    }
    if (svc.health)
      out.push(`  p_health ${[svc.name, svc.health.kind, ...svc.health.argv].map(shQuote).join(" ")}\n`);
  }
  out.push("}\n");

  out.push("p_probes() {\n  :\n");
  for (const p of plan.probes) {
    out.push(`  p_probe ${shQuote(p.origin)} ${shQuote(p.ca ?? "-")} ${p.insecure ? 1 : 0}\n`);
  }
  out.push("}\n");

  out.push("p_payload() {\n  :\n");
  plan.entries.forEach((e, i) => {
    const effect = e.effect ? `${e.effect.action}:${e.effect.service}` : "-";
    const check = e.check ? `${e.check.kind}:${e.check.binary}` : "-";
    const { extra, content } = encoded[i];
    const fields = [String(i + 1), e.kind, e.path, e.mode.toString(8), effect, check, extra];
    out.push(`  p_stage ${fields.map(shQuote).join(" ")} <<'P_EOF'\n${base64Lines(content)}\nP_EOF\n`);
  });
  out.push("}\n");

  const { awk } = lib();
  // Only the engines this plan can need (a `files` part of whole files needs none of the editing ones; the
  // merged-view reader only where a containerd config is checked). Plain quoted assignments: no process is started
  // to read them (a here-doc in $(cat …) costs a fork each).
  const needed = neededAwk(plan);
  for (const [name, text] of awk) if (needed.has(name)) out.push(`${name}=${shQuote(text)}\n`);
  out.push(libraryFor(plan));
  return out.join("");
}

/** A health check's problems: a known kind, and a command (its first word a name or an absolute path). */
function checkHealth(health: Health, at: string): Problem[] {
  const problems: Problem[] = [];
  if (health.kind !== "containerd-cri") {
    problems.push({
      path: `${at}.kind`,
      message: `${show(health.kind)} is not a health check: use "containerd-cri"`,
    });
  }
  const argv: unknown = health.argv;
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((w) => typeof w === "string")) {
    problems.push({ path: `${at}.argv`, message: "must be a non-empty list of strings" });
    return problems;
  }
  const cmd = argv[0] as string;
  const cmdErr = /^[A-Za-z0-9._+-]+$/.test(cmd) ? undefined : checkNodePath(cmd);
  if (cmdErr) problems.push({ path: `${at}.argv[0]`, message: `${cmdErr}, or a command name such as "ctr"` });
  return problems;
}

/**
 * The awk programs a plan's script needs. Staging and planning always; the editing engines unless the script is
 * the `files` part of whole files only (a `files` part never holds a block or a daemon.json entry: those always
 * restart or reload a service); the config_path edit only with a config-path entry; the merged-view reader only
 * where a containerd config is checked. A script that lacks one it needs stops (the variable is unset).
 */
function neededAwk(plan: NodePlan): Set<string> {
  const needed = new Set(["P_AWK_STAGE", "P_AWK_PLAN"]);
  if (editsFiles(plan)) {
    needed.add("P_AWK_SPLICE");
    needed.add("P_AWK_JSON");
  }
  if (plan.entries.some((e) => e.kind === "config-path")) needed.add("P_AWK_CONFIG_PATH");
  if (plan.entries.some((e) => e.check?.kind === "containerd-merged")) needed.add("P_AWK_MERGED");
  return needed;
}

/** Whether a script may edit files others own (everything but a `files` part of whole files only). */
function editsFiles(plan: NodePlan): boolean {
  return !(plan.part === "files" && plan.entries.every((e) => e.kind === "file"));
}

/**
 * The library as this plan's script carries it: compacted, and without the regions (`# @region NAME` … `# @end
 * NAME` in lib.sh) it can never run: `services` (a `files` part never has a service action, now or in a journal),
 * `edit` (see {@link editsFiles}), `check` (no entry with a check), `probes` (no mirror to probe).
 */
function libraryFor(plan: NodePlan): string {
  const drop = new Set<string>();
  if (plan.part === "files" && plan.services.length === 0) drop.add("services");
  if (!editsFiles(plan)) drop.add("edit");
  if (!plan.entries.some((e) => e.check)) drop.add("check");
  if (plan.probes.length === 0) drop.add("probes");
  const key = [...drop].sort().join(",");
  let text = libraries.get(key);
  if (text === undefined) {
    text = compact(withoutRegions(lib().lib, drop));
    libraries.set(key, text);
  }
  return text;
}

/** The text without the lines of the named regions (markers included); unbalanced markers are a build error. */
function withoutRegions(text: string, drop: ReadonlySet<string>): string {
  const out: string[] = [];
  let open: string | undefined;
  for (const line of text.split("\n")) {
    const begin = /^# @region ([a-z]+)\b/.exec(line);
    const end = /^# @end ([a-z]+)$/.exec(line);
    if (begin) {
      if (open !== undefined) throw new Error(`internal: region ${begin[1]} opens inside ${open}`);
      open = begin[1];
      continue;
    }
    if (end) {
      if (open !== end[1]) throw new Error(`internal: region ${end[1]} closes without being open`);
      open = undefined;
      continue;
    }
    if (open === undefined || !drop.has(open)) out.push(line);
  }
  if (open !== undefined) throw new Error(`internal: region ${open} is not closed`);
  return out.join("\n");
}

/**
 * How an entry travels in the script: the EXTRA field of its `p_stage` line and the bytes of its payload. This is the
 * only place that knows the shell side's encoding of each entry kind (see `p_finals` in `sh/lib.sh`).
 */
function encodeEntry(e: PlanEntry): { extra: string; content: string } {
  switch (e.kind) {
    case "file":
      return { extra: "-", content: e.content };
    case "block":
      return { extra: e.blockId, content: e.body };
    case "config-path":
      // First line: the hosts directory to enable; the rest: our block for the same file (may be empty).
      return { extra: e.blockId, content: `${e.hostsDir}\n${e.body}` };
    case "json-merge":
      return { extra: "-", content: e.values.map((v) => `${v.key}\t${v.value}\n`).join("") };
  }
}

/** Compressed bodies by content: the nodes of a cluster that share a plan share one compression. */
const packed = new Map<string, string>();

/**
 * Pack a node script for delivery: a few lines of `sh` that name the node, then decode (base64) and decompress
 * (gzip) the script's body (see {@link scriptBody}) and `eval` it, so that what travels on stdin and what Pulumi
 * stores in its state is a fraction of the script (the fixed library part compresses well). The node needs `base64`
 * and `gzip`, which coreutils/gzip and BusyBox have. Deterministic: the same plan packs to the same bytes.
 *
 * @param node the node's name, or `undefined` to take it from the environment variable `P_NODE` when the script
 *   runs (a DaemonSet's pods set it from the node they run on).
 */
export function packNodeScript(body: string, node: string | undefined): string {
  let z = packed.get(body);
  if (z === undefined) {
    const b64 = zlib.gzipSync(Buffer.from(body, "utf8"), { level: 9 }).toString("base64");
    const lines: string[] = [];
    for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
    z = lines.join("\n");
    if (packed.size > 64) packed.clear();
    packed.set(body, z);
  }
  return [
    "#!/bin/sh",
    `# pulumi-registries node script, format ${SCRIPT_FORMAT}, packed (gzip, base64). Run: sh -s -- apply|check|destroy`,
    node === undefined ? ': "${P_NODE:?the node name must be in the environment}"' : nodeLine(node).trimEnd(),
    "P_SCRIPT=$(base64 -d <<'P_Z' | gzip -dc",
    z,
    "P_Z",
    ') || { echo "pulumi-registries: the node needs base64 and gzip to unpack its script" >&2; exit 69; }',
    'eval "$P_SCRIPT"',
    "",
  ].join("\n");
}
