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
import { ConfigError, Problem, show } from "../model/errors";
import { beginMarker, endMarker } from "../render/managedBlock";
import { NodePlan, OWNER_RE } from "./plan";
import { checkNodePath } from "./profiles";
import { SUMMARY_PREFIX } from "./summary";

/**
 * Version of the script format (printed in every summary line). 2: journalled switch, flock, one manifest file
 * per owner with node identity and allowed directories; a node's format-1 state is refused, not converted.
 */
export const SCRIPT_FORMAT = 2;

/** A part name (see {@link ScriptOptions.part}). */
export const PART_RE = /^[a-z]{1,16}$/;

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

/** The three things a node script can be asked to do. */
export type ScriptMode = "apply" | "check" | "destroy";

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
  /**
   * The part of the owner's plan this script applies, when a plan is split into scripts with disjoint paths
   * (e.g. files that need no restart, and files that do). `[a-z]{1,16}`. Each part keeps its own state on the
   * node (`<stateRoot>/<owner>@<part>`) and counts as an owner of its own; block ids stay the owner's.
   * Defaults to none (one script per owner).
   */
  part?: string;
}

const SH_DIR = path.join(__dirname, "sh");
/** The awk programs, as the header variables that carry them. */
const AWK_FILES: Record<string, string> = {
  P_AWK_SPLICE: "splice.awk",
  P_AWK_CONFIG_PATH: "configPath.awk",
  P_AWK_JSON: "jsonArrays.awk",
  P_AWK_STAGE: "stage.awk",
  P_AWK_PLAN: "plan.awk",
};
let library: { lib: string; awk: [string, string][] } | undefined;

/**
 * Drop what only a reader needs (comment lines, blank lines, indentation): the library travels to every node on
 * every run and is stored in the stack's state. Safe for these files: no here-doc or multi-line string in them,
 * and every line continuation has a blank before its backslash.
 */
function compact(text: string): string {
  return text
    .split("\n")
    .map((l) => l.replace(/^[ \t]+/, ""))
    .filter((l) => l !== "" && !l.startsWith("#"))
    .join("\n")
    .concat("\n");
}

function lib() {
  library ??= {
    lib: compact(fs.readFileSync(path.join(SH_DIR, "lib.sh"), "utf8")),
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
  const { drift, lockWaitSeconds, stateRoot, part } = options;
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
  if (part !== undefined && (typeof part !== "string" || !PART_RE.test(part))) {
    problems.push({
      path: "part",
      message: `${show(part)} must match ${PART_RE} (it names a state directory)`,
    });
  }
  return problems;
}

/**
 * Build the node script for a plan. The result holds every file's content (base64), so treat it as secret
 * whenever `plan.secret` is true.
 *
 * @throws {ConfigError} for bad options.
 */
export function buildNodeScript(plan: NodePlan, options: ScriptOptions = {}): string {
  const drift = options.drift ?? "overwrite";
  const lockWait = options.lockWaitSeconds ?? 120;
  const stateRoot = options.stateRoot ?? "/var/lib/pulumi-registries";
  const problems = checkScriptOptions(options);
  if (!OWNER_RE.test(plan.owner)) problems.push({ path: "owner", message: `must match ${OWNER_RE}` });
  plan.entries.forEach((e) => {
    const at = `entries[${JSON.stringify(e.path)}]`;
    const err = checkNodePath(e.path);
    if (err) problems.push({ path: at, message: err });
    // The node decodes the payload with awk, one character a byte: a NUL byte cannot travel (no config has one).
    if (e.content.includes("\u0000"))
      problems.push({ path: `${at}.content`, message: "must not contain a NUL byte" });
  });
  plan.services.forEach((svc) => {
    if (!svc.health) return;
    const at = `services[${JSON.stringify(svc.name)}].health`;
    if (svc.health.kind !== "containerd-cri") {
      problems.push({
        path: `${at}.kind`,
        message: `${show(svc.health.kind)} is not a health check: use "containerd-cri"`,
      });
    }
    const ctrErr = /^[A-Za-z0-9._+-]+$/.test(svc.health.ctr) ? undefined : checkNodePath(svc.health.ctr);
    if (ctrErr) problems.push({ path: `${at}.ctr`, message: `${ctrErr}, or a command name such as "ctr"` });
    const sockErr = checkNodePath(svc.health.socket);
    if (sockErr) problems.push({ path: `${at}.socket`, message: sockErr });
  });
  if (problems.length) throw new ConfigError(problems);

  const out: string[] = [];
  out.push("#!/bin/sh\n");
  out.push(
    `# pulumi-registries node script, format ${SCRIPT_FORMAT}. Generated: do not edit. Run: sh -s -- apply|check|destroy\n`,
  );
  out.push(`P_OWNER=${shQuote(plan.owner)}\n`);
  out.push(`P_NODE=${shQuote(plan.node)}\n`);
  out.push(`P_ROOT=${shQuote(stateRoot)}\n`);
  out.push(`P_DRIFT=${shQuote(drift)}\n`);
  out.push(`P_LOCK_WAIT=${lockWait}\n`);
  if (plan.containerdMajor) out.push(`P_CONTAINERD_MAJOR=${plan.containerdMajor}\n`);
  if (options.part !== undefined) out.push(`P_PART=${shQuote(options.part)}\n`);
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
    if (svc.health) {
      const { kind, ctr, socket } = svc.health;
      out.push(`  p_health ${[svc.name, kind, ctr, socket].map(shQuote).join(" ")}\n`);
    }
  }
  out.push("}\n");

  out.push("p_probes() {\n  :\n");
  for (const p of plan.probes) {
    out.push(`  p_probe ${shQuote(p.origin)} ${shQuote(p.caPath ?? "-")} ${p.insecure ? 1 : 0}\n`);
  }
  out.push("}\n");

  out.push("p_payload() {\n  :\n");
  plan.entries.forEach((e, i) => {
    const effect = e.effect ? `${e.effect.action}:${e.effect.service}` : "-";
    const check = e.check ? `${e.check.kind}:${e.check.binary}` : "-";
    const fields = [String(i + 1), e.kind, e.path, e.mode.toString(8), effect, check, e.blockId ?? "-"];
    out.push(`  p_stage ${fields.map(shQuote).join(" ")} <<'P_EOF'\n${base64Lines(e.content)}\nP_EOF\n`);
  });
  out.push("}\n");

  const { lib: body, awk } = lib();
  // Plain quoted assignments: no process is started to read them (a here-doc in $(cat …) costs a fork each).
  for (const [name, text] of awk) out.push(`${name}=${shQuote(text)}\n`);
  out.push(body);
  return out.join("");
}
