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
import { PlanEntry } from "./entries";
import { NodePlan, OWNER_RE } from "./plan";
import { checkNodePath } from "./profiles";
import { ScriptMode } from "./summary";

/** Version of the script format (printed in every summary line). */
export const SCRIPT_FORMAT = 1;

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
let library: { lib: string; splice: string; configPath: string; json: string; merged: string } | undefined;

function lib() {
  library ??= {
    lib: fs.readFileSync(path.join(SH_DIR, "lib.sh"), "utf8"),
    splice: fs.readFileSync(path.join(SH_DIR, "splice.awk"), "utf8"),
    configPath: fs.readFileSync(path.join(SH_DIR, "configPath.awk"), "utf8"),
    json: fs.readFileSync(path.join(SH_DIR, "jsonArrays.awk"), "utf8"),
    merged: fs.readFileSync(path.join(SH_DIR, "containerdMerged.awk"), "utf8"),
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

function heredocVar(name: string, text: string, delimiter: string): string {
  if (text.split("\n").includes(delimiter)) throw new Error(`internal: ${delimiter} occurs in ${name}`);
  return `${name}=$(cat <<'${delimiter}'\n${text.replace(/\n+$/, "")}\n${delimiter}\n)\n`;
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
  for (const e of plan.entries) {
    const err = checkNodePath(e.path);
    if (err) problems.push({ path: `entries[${JSON.stringify(e.path)}]`, message: err });
  }
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

  out.push("p_services() {\n  :\n");
  for (const svc of plan.services) {
    for (const action of ["restart", "reload"] as const) {
      const argv = svc[action];
      if (argv) out.push(`  p_service ${shQuote(svc.name)} ${action} ${argv.map(shQuote).join(" ")}\n`);
    }
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
    const { extra, content } = encodeEntry(e);
    const fields = [String(i + 1), e.kind, e.path, e.mode.toString(8), effect, check, extra];
    out.push(`  p_stage ${fields.map(shQuote).join(" ")} <<'P_EOF'\n${base64Lines(content)}\nP_EOF\n`);
  });
  out.push("}\n");

  const { lib: body, splice, configPath, json, merged } = lib();
  out.push(heredocVar("P_AWK_SPLICE", splice, "P_AWK_EOF"));
  out.push(heredocVar("P_AWK_CONFIG_PATH", configPath, "P_AWK_EOF"));
  out.push(heredocVar("P_AWK_JSON", json, "P_AWK_EOF"));
  // Only scripts that check a containerd config carry the program that reads its merged view.
  if (plan.entries.some((e) => e.check?.kind === "containerd-merged"))
    out.push(heredocVar("P_AWK_MERGED", merged, "P_AWK_EOF"));
  out.push(body);
  return out.join("");
}

/**
 * How an entry travels in the script: the EXTRA field of its `p_stage` line and the bytes of its payload. This is the
 * only place that knows the shell side's encoding of each entry kind (see `p_final` in `sh/lib.sh`).
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
