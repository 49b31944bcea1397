/**
 * The program behind the give-back `local.Command` of each part of a node class: Pulumi runs nothing on a node when
 * it deletes a DaemonSet, so the DaemonSet that applies a part is declared with `retainOnDelete` and depends on this
 * command: on delete, Pulumi forgets the DaemonSet but leaves it in the cluster, then runs this command, which
 * switches it to destroy mode (its Pods then run the node script's `destroy` on every node, rolled with the
 * DaemonSet's own `maxUnavailable`, exactly like an apply), waits until every node has been given back, and only
 * then deletes it. The command exists before the DaemonSet applies anything (a first rollout that fails halfway
 * still leaves it in the stack), and the payload it needs is deleted after it. It talks to the cluster through
 * `kubectl`, so every kubeconfig authentication method works.
 *
 * It ships as one self-contained script (see `daemonSetScript.bundle.ts`, generated from this file: it imports
 * nothing but Node's own modules) that `node -` reads on stdin; its parameters come from the environment:
 *
 * - `REGISTRY_SETUP_NAMESPACE`: the namespace of the DaemonSets;
 * - `REGISTRY_SETUP_DAEMONSETS`: a JSON list of the DaemonSets to give back (one per part);
 * - `REGISTRY_SETUP_KUBECONFIG`, `REGISTRY_SETUP_CONTEXT` (optional): passed to kubectl as `--kubeconfig`,
 *   `--context` (otherwise kubectl's own defaults: `$KUBECONFIG`, `~/.kube/config`, the current context);
 * - `REGISTRY_SETUP_WAIT_SECONDS` (optional, default 600): how long `give-back` waits for every node.
 *
 * Actions:
 * - `verify` (create, update): kubectl runs and may patch and delete DaemonSets in the namespace, so that a machine
 *   without kubectl (or without the rights) fails at `pulumi up`, not at `pulumi destroy`;
 * - `give-back` (delete): one merge patch sets the Pod template's mode annotation to `destroy`; then it polls the
 *   DaemonSet until its rollout is complete, as `kubectl rollout status` judges a DaemonSet (kubectl
 *   `polymorphichelpers/rollout_status.go`): the status observed the new generation, and every scheduled node runs
 *   an updated Pod that is available; then it deletes the DaemonSet. A node that is down (or whose destroy fails)
 *   keeps the rollout from completing: after the wait the program lists those nodes and fails, leaving the
 *   DaemonSet in destroy mode, so that such a node is given back as soon as it runs its Pod again; running
 *   `pulumi destroy` again then finishes. A node that is gone for good leaves the DaemonSet's reach with
 *   `kubectl delete node` (its files stay on it).
 *
 * It prints one summary line (`REGISTRY_SETUP_DAEMONSET {…}`: names only, never a credential: nothing it reads
 * holds one) and exits 0, or prints what went wrong and exits 1 (2 for bad parameters).
 *
 * @module
 * @internal
 */
import { spawnSync } from "child_process";

/** The prefix of the summary line on stdout. */
export const SUMMARY_PREFIX = "REGISTRY_SETUP_DAEMONSET ";

/**
 * The Pod template annotation that switches a node class's Pods (the node agent's `MODE_ANNOTATION`; repeated here
 * because the program imports nothing of the library, and a test checks that the two agree).
 */
export const MODE_ANNOTATION = "registry-setup.io/mode";

/** How often `give-back` looks at the rollouts. */
export const POLL_MS = 2000;

/** What the script reports on its summary line. */
export interface DaemonSetSummary {
  readonly action: "verify" | "give-back";
  /** `<namespace>`. */
  readonly namespace: string;
  /** The DaemonSets it is about. */
  readonly daemonSets: string[];
  /** give-back: DaemonSets that no longer existed (deleted by hand: nothing could give their nodes back). */
  readonly missing: string[];
  /** give-back: DaemonSets deleted once every node was given back. */
  readonly deleted: string[];
  /** give-back: how many nodes each applying DaemonSet gave back. */
  readonly nodes: Record<string, number>;
  /** give-back: the nodes not given back when the wait ended, as `<daemonset>: <node> (<why>)`. */
  readonly pending: string[];
}

/** The result of one kubectl run. */
export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** What the script does to the world (real: child processes and a clock; tests may replace it). */
export interface ScriptIo {
  kubectl(args: string[]): KubectlResult;
  sleep(ms: number): void;
  now(): number;
  out(line: string): void;
  err(line: string): void;
}

interface Params {
  readonly namespace: string;
  readonly daemonSets: string[];
  readonly base: string[];
  readonly waitMs: number;
}

/** The parts of a DaemonSet the program reads. */
interface DaemonSetObject {
  metadata?: { generation?: number };
  status?: {
    observedGeneration?: number;
    desiredNumberScheduled?: number;
    updatedNumberScheduled?: number;
    numberAvailable?: number;
  };
}

/** The parts of a Pod the program reads. */
interface PodObject {
  metadata?: { name?: string; annotations?: Record<string, string> };
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    conditions?: { type?: string; status?: string }[];
    initContainerStatuses?: { state?: { waiting?: { reason?: string }; terminated?: { reason?: string } } }[];
  };
}

class Failure extends Error {}

function params(env: Record<string, string | undefined>): Params | string {
  const missing = ["NAMESPACE", "DAEMONSETS"].filter((k) => !env[`REGISTRY_SETUP_${k}`]);
  if (missing.length > 0)
    return `missing environment: ${missing.map((k) => `REGISTRY_SETUP_${k}`).join(", ")}`;
  let list: unknown;
  try {
    list = JSON.parse(env.REGISTRY_SETUP_DAEMONSETS as string);
  } catch {
    list = undefined;
  }
  if (!Array.isArray(list) || list.length === 0 || !list.every((s) => typeof s === "string" && s !== "")) {
    return "REGISTRY_SETUP_DAEMONSETS must be a JSON list of DaemonSet names";
  }
  const wait = env.REGISTRY_SETUP_WAIT_SECONDS === undefined ? 600 : Number(env.REGISTRY_SETUP_WAIT_SECONDS);
  if (!Number.isInteger(wait) || wait < 0)
    return "REGISTRY_SETUP_WAIT_SECONDS must be a whole number of seconds";
  const namespace = env.REGISTRY_SETUP_NAMESPACE as string;
  return {
    namespace,
    daemonSets: list as string[],
    base: [
      ...(env.REGISTRY_SETUP_KUBECONFIG ? ["--kubeconfig", env.REGISTRY_SETUP_KUBECONFIG] : []),
      ...(env.REGISTRY_SETUP_CONTEXT ? ["--context", env.REGISTRY_SETUP_CONTEXT] : []),
      "--request-timeout",
      "30s",
      "--namespace",
      namespace,
    ],
    waitMs: wait * 1000,
  };
}

function parse<T>(what: string, text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Failure(`kubectl get ${what} printed something that is not JSON`);
  }
}

/** Read a DaemonSet; `undefined` when it does not exist. */
function readDaemonSet(p: Params, io: ScriptIo, name: string): DaemonSetObject | undefined {
  const r = io.kubectl([...p.base, "get", "daemonset", name, "--output", "json", "--ignore-not-found"]);
  if (r.code !== 0)
    throw new Failure(`kubectl get daemonset ${p.namespace}/${name} failed: ${r.stderr.trim()}`);
  // --ignore-not-found: a missing object prints nothing and exits 0.
  if (r.stdout.trim() === "") return undefined;
  return parse<DaemonSetObject>(`daemonset ${p.namespace}/${name}`, r.stdout);
}

/**
 * Whether a DaemonSet's rollout is complete, with kubectl's own test (`DaemonSetStatusViewer`): the controller saw
 * the current generation, every scheduled node has an updated Pod, and every one of them is available.
 */
export function rolledOut(ds: DaemonSetObject): { done: boolean; desired: number; why: string } {
  const s = ds.status ?? {};
  const desired = s.desiredNumberScheduled ?? 0;
  if ((ds.metadata?.generation ?? 0) > (s.observedGeneration ?? 0))
    return { done: false, desired, why: "waiting for the controller to see the change" };
  if ((s.updatedNumberScheduled ?? 0) < desired)
    return {
      done: false,
      desired,
      why: `${s.updatedNumberScheduled ?? 0} of ${desired} nodes run the destroy Pod`,
    };
  if ((s.numberAvailable ?? 0) < desired)
    return { done: false, desired, why: `${s.numberAvailable ?? 0} of ${desired} nodes given back` };
  return { done: true, desired, why: "" };
}

/** Why each node of a DaemonSet is not given back yet (from its Pods). */
function pendingNodes(p: Params, io: ScriptIo, name: string): string[] {
  const r = io.kubectl([
    ...p.base,
    "get",
    "pods",
    "--selector",
    `app.kubernetes.io/instance=${name}`,
    "--output",
    "json",
  ]);
  if (r.code !== 0) return [`${name}: (could not list its Pods: ${r.stderr.trim()})`];
  const pods = parse<{ items?: PodObject[] }>(`pods of ${name}`, r.stdout).items ?? [];
  const out: string[] = [];
  for (const pod of pods) {
    const node = pod.spec?.nodeName ?? "(not scheduled)";
    const mode = pod.metadata?.annotations?.[MODE_ANNOTATION];
    const ready = (pod.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
    if (mode === "destroy" && ready) continue;
    const init = pod.status?.initContainerStatuses?.[0]?.state;
    const reason = init?.waiting?.reason ?? init?.terminated?.reason ?? pod.status?.phase ?? "unknown";
    out.push(
      mode === "destroy"
        ? `${name}: ${node} (destroy not finished: ${reason})`
        : `${name}: ${node} (still the apply Pod ${pod.metadata?.name ?? "?"}: the node is down or its Pod was not replaced yet)`,
    );
  }
  return out.sort();
}

function verify(p: Params, io: ScriptIo): DaemonSetSummary {
  for (const verb of ["patch", "delete"]) {
    const can = io.kubectl([...p.base, "auth", "can-i", verb, "daemonsets"]);
    if (can.code === 127) throw new Failure(can.stderr);
    if (can.stdout.trim() !== "yes") {
      throw new Failure(
        `kubectl may not ${verb} DaemonSets in namespace ${p.namespace} (kubectl auth can-i: ${(can.stdout + can.stderr).trim() || `exit ${can.code}`}): pulumi destroy could not give the nodes back; use a kubeconfig (and context) that may, the one the Kubernetes provider uses`,
      );
    }
  }
  return {
    action: "verify",
    namespace: p.namespace,
    daemonSets: p.daemonSets,
    missing: [],
    deleted: [],
    nodes: {},
    pending: [],
  };
}

function giveBack(p: Params, io: ScriptIo): DaemonSetSummary {
  const patch = JSON.stringify({
    spec: { template: { metadata: { annotations: { [MODE_ANNOTATION]: "destroy" } } } },
  });
  const missing: string[] = [];
  for (const name of p.daemonSets) {
    const r = io.kubectl([...p.base, "patch", "daemonset", name, "--type", "merge", "--patch", patch]);
    if (r.code === 0) continue;
    if (/\(NotFound\)/.test(r.stderr)) {
      // Deleted by hand: its Pods are gone, nothing can run the destroy on its nodes any more.
      missing.push(name);
      io.err(
        `DaemonSet ${p.namespace}/${name} no longer exists: its nodes cannot be given back from the cluster`,
      );
      continue;
    }
    throw new Failure(`kubectl patch daemonset ${p.namespace}/${name} failed: ${r.stderr.trim()}`);
  }
  const waiting = p.daemonSets.filter((n) => !missing.includes(n));
  const nodes: Record<string, number> = {};
  const deadline = io.now() + p.waitMs;
  for (;;) {
    const open: string[] = [];
    for (const name of waiting) {
      if (name in nodes) continue;
      const ds = readDaemonSet(p, io, name);
      if (ds === undefined) {
        missing.push(name);
        nodes[name] = 0;
        continue;
      }
      const state = rolledOut(ds);
      if (state.done) nodes[name] = state.desired;
      else open.push(`${name}: ${state.why}`);
    }
    if (open.length === 0) break;
    if (io.now() >= deadline) {
      const pending = waiting.filter((n) => !(n in nodes)).flatMap((n) => pendingNodes(p, io, n));
      const summary: DaemonSetSummary = {
        action: "give-back",
        namespace: p.namespace,
        daemonSets: p.daemonSets,
        missing,
        deleted: [],
        nodes,
        pending,
      };
      io.out(SUMMARY_PREFIX + JSON.stringify(summary));
      throw new Failure(
        [
          `not every node was given back within ${p.waitMs / 1000}s (${open.join("; ")}):`,
          ...(pending.length > 0 ? pending.map((x) => `  ${x}`) : ["  (no Pod names a node yet)"]),
          "The DaemonSet stays, in destroy mode: a node that is down is given back when it runs its Pod again; run pulumi destroy again to finish.",
          "A node that will not come back: kubectl delete node <name> takes it out of the DaemonSet's reach (its files stay on it).",
        ].join("\n"),
      );
    }
    io.sleep(Math.min(POLL_MS, Math.max(0, deadline - io.now())));
  }
  const deleted: string[] = [];
  for (const name of waiting.filter((n) => !missing.includes(n))) {
    const r = io.kubectl([...p.base, "delete", "daemonset", name, "--ignore-not-found"]);
    if (r.code !== 0)
      throw new Failure(`kubectl delete daemonset ${p.namespace}/${name} failed: ${r.stderr.trim()}`);
    deleted.push(name);
  }
  return {
    action: "give-back",
    namespace: p.namespace,
    daemonSets: p.daemonSets,
    missing,
    deleted,
    nodes,
    pending: [],
  };
}

/**
 * Run `verify` or `give-back` for the DaemonSets the environment names.
 *
 * @returns the exit code.
 */
export function runDaemonSetScript(
  action: string | undefined,
  env: Record<string, string | undefined>,
  io: ScriptIo,
): number {
  if (action !== "verify" && action !== "give-back") {
    io.err(`usage: node - verify|give-back (got ${JSON.stringify(action)})`);
    return 2;
  }
  const p = params(env);
  if (typeof p === "string") {
    io.err(p);
    return 2;
  }
  try {
    const summary = action === "verify" ? verify(p, io) : giveBack(p, io);
    io.out(SUMMARY_PREFIX + JSON.stringify(summary));
    return 0;
  } catch (e) {
    if (!(e instanceof Failure)) throw e;
    io.err(e.message);
    return 1;
  }
}

/** The summary on a run's stdout, if it printed one. */
export function parseDaemonSetSummary(stdout: string): DaemonSetSummary | undefined {
  const line = stdout
    .split("\n")
    .reverse()
    .find((l) => l.startsWith(SUMMARY_PREFIX));
  return line ? (JSON.parse(line.slice(SUMMARY_PREFIX.length)) as DaemonSetSummary) : undefined;
}

/** The real world: kubectl from the PATH, a blocking sleep, the wall clock. */
export const realIo: ScriptIo = {
  kubectl(args) {
    const r = spawnSync("kubectl", args, { encoding: "utf8" });
    if (r.error) {
      return {
        code: 127,
        stdout: "",
        stderr: `kubectl could not be run (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}): install kubectl on the machine that runs pulumi`,
      };
    }
    return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
  },
  sleep(ms) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  },
  now: () => Date.now(),
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** The entry point of the bundled script: `node - verify|give-back`. */
export function main(): void {
  process.exitCode = runDaemonSetScript(process.argv[2], process.env, realIo);
}
