/**
 * Node scripts on the rig without SSH: build them from a declaration, run them inside a node's namespaces
 * (nsenter, as root, script on stdin, exactly the command text the components use), make crash-point variants,
 * and take byte-level snapshots of what a node holds.
 */
import * as fs from "fs";
import * as path from "path";
import * as nodeLayer from "../../components/node";
import { NodePlan, RuntimeProfile, ScriptOptions } from "../../components/node";
import { ApplySummary } from "../../components/node/summary";
import * as renderLayer from "../../components/render";
import { RegistriesArgs } from "../../components/render";
import { nodeExec, RigNode, RunResult } from "./rig";

/**
 * The library the scripts are built with: this tree's, or (PRR_SCRIPT_LIB=<dir>) the `components` of another
 * tree placed inside this repository (e.g. `git archive main components | tar -x -C .rig-scratch/old`), to show
 * that a test fails on an older library. Only the tests use it; the components always use their own.
 */
const other = process.env.PRR_SCRIPT_LIB ? path.resolve(process.env.PRR_SCRIPT_LIB, "components") : undefined;
const node: typeof nodeLayer = other
  ? // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require(path.join(other, "node")) as typeof nodeLayer)
  : nodeLayer;
const render: typeof renderLayer = other
  ? // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require(path.join(other, "render")) as typeof renderLayer)
  : renderLayer;
const { buildNodeScript, parseSummary, planNode } = node;
const { normalizeRegistries } = render;

/** The one line of the library that the crash-point harness replaces. */
export const INERT_CRASH_POINT = "p_crash_point() { :; }";

/** Options of {@link nodePlan}. */
export interface PlanArgs {
  owner?: string;
  probeMirrors?: boolean;
  /**
   * Leave out the checks of new content by the node's own tools (e.g. `dockerd --validate`, which Debian 12's
   * dockerd 20.10 does not have: the format-1 library then refuses every daemon.json).
   */
  noChecks?: boolean;
}

/** The plan a node entry would get (owner defaults to "t"). */
export function nodePlan(
  n: RigNode,
  regs: RegistriesArgs,
  profiles: RuntimeProfile[],
  o: PlanArgs = {},
): NodePlan {
  const plan = planNode(normalizeRegistries(regs), {
    node: n.name,
    owner: o.owner ?? "t",
    profiles,
    probeMirrors: o.probeMirrors,
  });
  if (!o.noChecks) return plan;
  return { ...plan, entries: plan.entries.map(({ check: _check, ...e }) => e as nodeLayer.PlanEntry) };
}

/** The production script of a declaration. */
export function nodeScript(
  n: RigNode,
  regs: RegistriesArgs,
  profiles: RuntimeProfile[],
  o: PlanArgs & ScriptOptions = {},
): string {
  const { owner, probeMirrors, noChecks, ...options } = o;
  return buildNodeScript(nodePlan(n, regs, profiles, { owner, probeMirrors, noChecks }), options);
}

/** The production script of a plan (e.g. one a test changed). */
export function planScript(plan: NodePlan, options: ScriptOptions = {}): string {
  return buildNodeScript(plan, options);
}

/** Every crash-point label of a built script, in the order they appear. */
export function crashLabels(script: string): string[] {
  return [...new Set([...script.matchAll(/p_crash_point ([a-z][a-z0-9.-]*)/g)].map((m) => m[1]))];
}

/**
 * The test variant of a production script: the inert crash-point function replaced by one that kills the shell
 * with SIGKILL at the `nth` time it passes `label`. Production scripts carry no injection code; only this
 * rewrite adds it.
 */
export function crashVariant(script: string, label: string, nth = 1): string {
  const parts = script.split(`\n${INERT_CRASH_POINT}\n`);
  if (parts.length !== 2) throw new Error("the script must define the inert crash point exactly once");
  const killer =
    `p_crash_hits=0\n` +
    `p_crash_point() { [ "$1" = '${label}' ] || return 0; p_crash_hits=$((p_crash_hits + 1)); ` +
    `[ "$p_crash_hits" -lt ${nth} ] || kill -KILL $$; }`;
  return `${parts[0]}\n${killer}\n${parts[1]}`;
}

/**
 * The labelling variant of a production script: it runs as the production script does and appends every crash
 * point it passes to `log` (on the node), so that a harness knows which labels a run reaches.
 */
export function labelVariant(script: string, log: string): string {
  const parts = script.split(`\n${INERT_CRASH_POINT}\n`);
  if (parts.length !== 2) throw new Error("the script must define the inert crash point exactly once");
  return `${parts[0]}\np_crash_point() { printf '%s\\n' "$1" >> '${log}'; }\n${parts[1]}`;
}

/** Options of {@link runScript}. */
export interface RunScriptOptions {
  /** The shell: `sh` (dash on the rig), `bash` or `busybox sh`. Defaults to `/bin/sh`. */
  shell?: string[];
  timeoutMs?: number;
}

/** Run a node script inside a node (as the components do: `/bin/sh -s -- <mode>`, script on stdin). */
export function runScript(
  n: RigNode,
  mode: "apply" | "check" | "destroy",
  script: string,
  o: RunScriptOptions = {},
): Promise<RunResult> {
  return nodeExec(n, [...(o.shell ?? ["/bin/sh"]), "-s", "--", mode], {
    stdin: script,
    timeoutMs: o.timeoutMs ?? 60_000,
  });
}

/** Run, and fail with the script's stderr unless it exits 0; returns the summary. */
export async function runOk(
  n: RigNode,
  mode: "apply" | "check" | "destroy",
  script: string,
  o: RunScriptOptions = {},
): Promise<ApplySummary> {
  const r = await runScript(n, mode, script, o);
  if (r.code !== 0) throw new Error(`${mode} on ${n.name} exited ${r.code ?? r.signal}:\n${r.stderr}`);
  return parseSummary(r.stdout)!;
}

const stock = new Map<string, string>();
/**
 * The node's own containerd config.toml as the rig wrote it (each node's names its own root, state and socket): the
 * copy rig.sh keeps beside the node, so that what earlier test files left in the node's file does not count.
 */
export function stockConfig(n: RigNode): string {
  if (!stock.has(n.id)) {
    const saved = path.join(path.dirname(n.containerdConfigUpper), "..", "..", "config.toml.stock");
    stock.set(n.id, fs.readFileSync(fs.existsSync(saved) ? saved : n.containerdConfigUpper, "utf8"));
  }
  return stock.get(n.id)!;
}

/**
 * Put a node back to how the rig started it, as far as the node scripts are concerned: no state, no work
 * directory, nothing under the directories the tests write, the node's stock containerd config.toml.
 */
export async function resetNode(n: RigNode, then = "true"): Promise<void> {
  await nodeSh(
    n,
    `set -e
    for d in /etc/containerd/certs.d /etc/containerd/conf.d /etc/docker/certs.d /var/lib/kubelet /var/snap \
      /var/lib/pulumi-registries /var/lib/prr-full /run/pulumi-registries; do
      chattr -R -i "$d" 2>/dev/null || true
      if mountpoint -q "$d"; then find "$d" -mindepth 1 -delete; else rm -rf "$d"; fi
    done
    chattr -i /etc/containerd/config.toml 2>/dev/null || true
    rm -f /etc/containerd/.config.toml.* /etc/docker/daemon.json /etc/docker/daemon.real.json /etc/docker/.daemon*
    cat > /etc/containerd/config.toml
    chmod 644 /etc/containerd/config.toml
    chown 0:0 /etc/containerd/config.toml
    ${then}`,
    stockConfig(n),
  );
}

/** Run a shell snippet inside a node; fail with its stderr unless it exits 0. */
export async function nodeSh(n: RigNode, snippet: string, stdin?: string): Promise<string> {
  const r = await nodeExec(n, ["sh", "-c", snippet], { stdin });
  if (r.code !== 0) throw new Error(`on ${n.name}: ${snippet}\n${r.stderr}`);
  return r.stdout;
}

/** The directories a snapshot covers by default: every place the tests' scripts write, and the state. */
export const WATCHED = [
  "/etc/containerd",
  "/etc/docker",
  "/etc/containers",
  "/var/lib/kubelet",
  "/var/snap",
  "/var/lib/pulumi-registries",
  "/var/lib/prr-full",
  "/run/pulumi-registries",
];

/**
 * What a node holds under `dirs`, byte for byte: every entry's path, type, mode, owner, group and link target,
 * and every regular file's SHA-256. Two equal snapshots mean the same content, modes, owners and links.
 */
export async function snapshot(n: RigNode, dirs: string[] = WATCHED): Promise<string> {
  const list = dirs.join(" ");
  return nodeSh(
    n,
    `for d in ${list}; do [ -e "$d" ] || [ -L "$d" ] || continue; ` +
      `find "$d" -printf '%p %y %m %U:%G %l\\n'; find "$d" -type f -exec sha256sum {} +; done | sort`,
  );
}

/** Files in a node's overlay upper dirs (what it wrote to /etc and /var) and its /run that contain `needle`. */
export async function filesContaining(n: RigNode, needle: string): Promise<string[]> {
  const found: string[] = [];
  const walk = (prefix: string, dir: string) => {
    if (!fs.existsSync(dir)) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(`${prefix}/${e.name}`, p);
      else if (e.isFile() && fs.readFileSync(p).includes(needle)) found.push(`${prefix}/${e.name}`);
    }
  };
  walk("/etc", n.upperEtc);
  walk("/var", n.upperVar);
  // The nodes see the host's /tmp and /run: this checkout (and its rig, whose node files are read above) may live
  // there, as a CI clone does; it is not the node's, so it is left out.
  const repo = path.resolve(__dirname, "..", "..");
  const run = await nodeExec(n, [
    "find",
    "/run",
    "/tmp",
    "-path",
    repo,
    "-prune",
    "-o",
    "-type",
    "f",
    "-exec",
    "grep",
    "-l",
    "--",
    needle,
    "{}",
    "+",
  ]);
  found.push(...run.stdout.split("\n").filter((l) => l !== ""));
  return found.sort();
}
