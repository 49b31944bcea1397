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
import { NodePlan, OWNER_RE } from "./plan";
import { checkNodePath } from "./profiles";

/** Version of the script format (printed in every summary line). */
export const SCRIPT_FORMAT = 1;

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
}

const SH_DIR = path.join(__dirname, "sh");
let library: { lib: string; splice: string; configPath: string; json: string } | undefined;

function lib() {
  library ??= {
    lib: fs.readFileSync(path.join(SH_DIR, "lib.sh"), "utf8"),
    splice: fs.readFileSync(path.join(SH_DIR, "splice.awk"), "utf8"),
    configPath: fs.readFileSync(path.join(SH_DIR, "configPath.awk"), "utf8"),
    json: fs.readFileSync(path.join(SH_DIR, "jsonArrays.awk"), "utf8"),
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

  const { lib: body, splice, configPath, json } = lib();
  out.push(heredocVar("P_AWK_SPLICE", splice, "P_AWK_EOF"));
  out.push(heredocVar("P_AWK_CONFIG_PATH", configPath, "P_AWK_EOF"));
  out.push(heredocVar("P_AWK_JSON", json, "P_AWK_EOF"));
  out.push(body);
  return out.join("");
}
