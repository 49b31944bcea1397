/**
 * The program behind each ServiceAccount's `local.Command`: it adds our pull Secret to a ServiceAccount's
 * `imagePullSecrets` (`apply`) or takes exactly what it added out again (`remove`), through `kubectl`, so that
 * every kubeconfig authentication method works (exec plugins, OIDC, client certificates, tokens).
 *
 * It ships as one self-contained script (see `serviceAccountScript.bundle.ts`, generated from this file and the
 * modules it imports) that `node -` reads on stdin; its parameters come from the environment:
 *
 * - `REGISTRY_SETUP_NAMESPACE`, `REGISTRY_SETUP_SERVICE_ACCOUNT`: the ServiceAccount;
 * - `REGISTRY_SETUP_PULL_SECRETS`: a JSON list of our Secret names;
 * - `REGISTRY_SETUP_OWNER`: names the annotation that records what we added;
 * - `REGISTRY_SETUP_KUBECONFIG`, `REGISTRY_SETUP_CONTEXT` (optional): passed to kubectl as `--kubeconfig`,
 *   `--context` (otherwise kubectl's own defaults: `$KUBECONFIG`, `~/.kube/config`, the current context);
 * - `REGISTRY_SETUP_WAIT_SECONDS` (optional, default 60): how long `apply` waits for a missing ServiceAccount.
 *
 * Each write is a compare-and-swap: a JSON Patch that `test`s the `resourceVersion` it read. When another
 * writer changed the ServiceAccount in between, the API server refuses the patch (422) and the script reads
 * again and recomputes, up to {@link MAX_ATTEMPTS} times: a concurrent change is never lost.
 *
 * It prints one summary line (`REGISTRY_SETUP_SERVICE_ACCOUNT {…}`: names only, never a credential) and
 * exits 0, or prints what went wrong and exits 1 (2 for missing parameters).
 *
 * @module
 * @internal
 */
import { spawnSync } from "child_process";
import {
  LocalObjectReference,
  planServiceAccountApply,
  planServiceAccountRemove,
  ServiceAccountObject,
  ServiceAccountPlan,
} from "../kubernetes/imagePullSecrets";

/** How often a refused patch is recomputed and sent again before the script gives up. */
export const MAX_ATTEMPTS = 8;

/** The prefix of the summary line on stdout. */
export const SUMMARY_PREFIX = "REGISTRY_SETUP_SERVICE_ACCOUNT ";

/** What the script reports on its summary line. */
export interface ServiceAccountSummary {
  /** `<namespace>/<name>`. */
  readonly serviceAccount: string;
  /** What ran: `apply` or `remove`. */
  readonly action: "apply" | "remove";
  /** Whether the ServiceAccount was written. */
  readonly changed: boolean;
  /** `remove` only: the ServiceAccount no longer exists (nothing to give back). */
  readonly missing: boolean;
  /** The names this owner added and still owns (empty after `remove`). */
  readonly recorded: string[];
  /** The names in `imagePullSecrets` afterwards (empty when missing). */
  readonly imagePullSecrets: string[];
  /** How many patches the API server refused because the ServiceAccount changed meanwhile. */
  readonly retries: number;
}

/** The result of one kubectl run. */
export interface KubectlResult {
  /** Exit code (127 when kubectl could not be started). */
  readonly code: number;
  /** Standard output. */
  readonly stdout: string;
  /** Standard error. */
  readonly stderr: string;
}

/** What the script does to the world (real: child processes and a clock; tests may replace it). */
export interface ScriptIo {
  /** Run kubectl with these arguments and wait for it. */
  kubectl(args: string[]): KubectlResult;
  /** Block for `ms` milliseconds. */
  sleep(ms: number): void;
  /** Milliseconds since the epoch. */
  now(): number;
  /** Print a line on standard output. */
  out(line: string): void;
  /** Print a line on standard error. */
  err(line: string): void;
}

/** The parameters, read from the environment. */
interface Params {
  readonly namespace: string;
  readonly name: string;
  readonly secrets: string[];
  readonly owner: string;
  readonly base: string[];
  readonly waitMs: number;
}

/** A refused patch that is worth recomputing: the ServiceAccount changed since it was read. */
function isConflict(r: KubectlResult): boolean {
  // A failed JSON Patch `test` is a 422 without details (apiserver handlers/patch.go applyJSPatch →
  // NewGenericServerResponse), which kubectl prints as below; a 409 is the other form of "changed meanwhile".
  return (
    r.stderr.includes("the server rejected our request due to an error in our request") ||
    r.stderr.includes("Error from server (Conflict)")
  );
}

function params(env: Record<string, string | undefined>): Params | string {
  const missing = ["NAMESPACE", "SERVICE_ACCOUNT", "PULL_SECRETS", "OWNER"].filter(
    (k) => !env[`REGISTRY_SETUP_${k}`],
  );
  if (missing.length > 0)
    return `missing environment: ${missing.map((k) => `REGISTRY_SETUP_${k}`).join(", ")}`;
  let secrets: unknown;
  try {
    secrets = JSON.parse(env.REGISTRY_SETUP_PULL_SECRETS as string);
  } catch {
    secrets = undefined;
  }
  if (!Array.isArray(secrets) || secrets.length === 0 || !secrets.every((s) => typeof s === "string")) {
    return "REGISTRY_SETUP_PULL_SECRETS must be a JSON list of Secret names";
  }
  const wait = env.REGISTRY_SETUP_WAIT_SECONDS === undefined ? 60 : Number(env.REGISTRY_SETUP_WAIT_SECONDS);
  if (!Number.isInteger(wait) || wait < 0)
    return "REGISTRY_SETUP_WAIT_SECONDS must be a whole number of seconds";
  const namespace = env.REGISTRY_SETUP_NAMESPACE as string;
  const base = [
    ...(env.REGISTRY_SETUP_KUBECONFIG ? ["--kubeconfig", env.REGISTRY_SETUP_KUBECONFIG] : []),
    ...(env.REGISTRY_SETUP_CONTEXT ? ["--context", env.REGISTRY_SETUP_CONTEXT] : []),
    "--request-timeout",
    "30s",
    "--namespace",
    namespace,
  ];
  return {
    namespace,
    name: env.REGISTRY_SETUP_SERVICE_ACCOUNT as string,
    secrets: secrets as string[],
    owner: env.REGISTRY_SETUP_OWNER as string,
    base,
    waitMs: wait * 1000,
  };
}

/** Read the ServiceAccount; `undefined` when it does not exist. */
function read(p: Params, io: ScriptIo): ServiceAccountObject | undefined {
  const r = io.kubectl([
    ...p.base,
    "get",
    "serviceaccount",
    p.name,
    "--output",
    "json",
    "--ignore-not-found",
  ]);
  if (r.code !== 0)
    throw new Failure(`kubectl get serviceaccount ${p.namespace}/${p.name} failed: ${r.stderr.trim()}`);
  // --ignore-not-found: a missing object prints nothing and exits 0 (kubectl get.go printGeneric).
  if (r.stdout.trim() === "") return undefined;
  try {
    return JSON.parse(r.stdout) as ServiceAccountObject;
  } catch {
    throw new Failure(
      `kubectl get serviceaccount ${p.namespace}/${p.name} printed something that is not JSON`,
    );
  }
}

class Failure extends Error {}

function names(list: readonly LocalObjectReference[] | undefined): string[] {
  return (list ?? []).map((e) => e.name ?? "");
}

/**
 * Run `apply` or `remove` for the ServiceAccount the environment names.
 *
 * - `apply`: waits up to `REGISTRY_SETUP_WAIT_SECONDS` for the ServiceAccount to exist (the controller manager
 *   creates `default` a moment after its namespace), then fails: it never creates one (a ServiceAccount made by
 *   us would be deleted with our part, and whoever expected it would find it gone).
 * - `remove`: a ServiceAccount that no longer exists has nothing to give back: success.
 *
 * @returns the exit code.
 */
export function runServiceAccountScript(
  action: string | undefined,
  env: Record<string, string | undefined>,
  io: ScriptIo,
): number {
  if (action !== "apply" && action !== "remove") {
    io.err(`usage: node - apply|remove (got ${JSON.stringify(action)})`);
    return 2;
  }
  const p = params(env);
  if (typeof p === "string") {
    io.err(p);
    return 2;
  }
  const who = `${p.namespace}/${p.name}`;
  const deadline = io.now() + p.waitMs;
  let retries = 0;
  try {
    for (;;) {
      const sa = read(p, io);
      if (sa === undefined) {
        if (action === "remove")
          return summary(io, { who, action, changed: false, missing: true, list: [], recorded: [], retries });
        if (io.now() >= deadline) {
          io.err(
            `ServiceAccount ${who} does not exist (waited ${p.waitMs / 1000}s): create it (or its namespace), or drop it from pullSecrets.serviceAccounts.names`,
          );
          return 1;
        }
        io.sleep(Math.min(1000, Math.max(0, deadline - io.now())));
        continue;
      }
      let plan: ServiceAccountPlan;
      try {
        plan =
          action === "apply"
            ? planServiceAccountApply(sa, p.secrets, p.owner)
            : planServiceAccountRemove(sa, p.owner);
      } catch (e) {
        throw new Failure(`ServiceAccount ${who}: ${(e as Error).message}`);
      }
      if (!plan.changed) {
        return summary(io, {
          who,
          action,
          changed: false,
          missing: false,
          list: names(plan.list),
          recorded: plan.recorded,
          retries,
        });
      }
      const r = io.kubectl([
        ...p.base,
        "patch",
        "serviceaccount",
        p.name,
        "--type",
        "json",
        "--patch",
        JSON.stringify(plan.ops),
      ]);
      if (r.code === 0) {
        return summary(io, {
          who,
          action,
          changed: true,
          missing: false,
          list: names(plan.list),
          recorded: plan.recorded,
          retries,
        });
      }
      if (!isConflict(r) || retries + 1 >= MAX_ATTEMPTS) {
        const why = isConflict(r) ? ` (the ServiceAccount kept changing: ${MAX_ATTEMPTS} attempts)` : "";
        throw new Failure(`kubectl patch serviceaccount ${who} failed${why}: ${r.stderr.trim()}`);
      }
      retries++;
      // Someone else wrote the ServiceAccount between our read and our write: read it again and recompute.
      io.sleep(100 * retries);
    }
  } catch (e) {
    if (!(e instanceof Failure)) throw e;
    io.err(e.message);
    return 1;
  }
}

function summary(
  io: ScriptIo,
  s: {
    who: string;
    action: "apply" | "remove";
    changed: boolean;
    missing: boolean;
    list: string[];
    recorded: string[];
    retries: number;
  },
): number {
  const out: ServiceAccountSummary = {
    serviceAccount: s.who,
    action: s.action,
    changed: s.changed,
    missing: s.missing,
    recorded: s.action === "remove" ? [] : s.recorded,
    imagePullSecrets: s.list,
    retries: s.retries,
  };
  io.out(`${SUMMARY_PREFIX}${JSON.stringify(out)}`);
  return 0;
}

/** Parse the summary line out of the script's stdout (`undefined` when there is none). */
export function parseServiceAccountSummary(stdout: string | undefined): ServiceAccountSummary | undefined {
  const line = (stdout ?? "").split("\n").find((l) => l.startsWith(SUMMARY_PREFIX));
  if (!line) return undefined;
  try {
    return JSON.parse(line.slice(SUMMARY_PREFIX.length)) as ServiceAccountSummary;
  } catch {
    return undefined;
  }
}

/** The real world: kubectl from the PATH, a blocking sleep, the process's stdout and stderr. */
export const realIo: ScriptIo = {
  kubectl(args) {
    const r = spawnSync("kubectl", args, { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
    if (r.error) {
      const code = (r.error as NodeJS.ErrnoException).code;
      return {
        code: 127,
        stdout: "",
        stderr:
          code === "ENOENT"
            ? "kubectl is not on the PATH of the machine that runs Pulumi"
            : String(r.error.message),
      };
    }
    return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
  },
  sleep(ms) {
    if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  },
  now: () => Date.now(),
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** The script's entry point: `node - apply|remove` with the parameters in the environment. */
export function main(): void {
  process.exitCode = runServiceAccountScript(process.argv[2], process.env, realIo);
}
