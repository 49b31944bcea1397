/**
 * What the kubectl programs (the ServiceAccount program and the node-class give-back) share: how they run kubectl,
 * wait and print, as one seam that tests replace, and the kubectl arguments every call starts with.
 *
 * @module
 * @internal
 */
import { spawnSync } from "child_process";

/** The result of one kubectl run. */
export interface KubectlResult {
  /** Exit code (127 when kubectl could not be started). */
  readonly code: number;
  /** Standard output. */
  readonly stdout: string;
  /** Standard error. */
  readonly stderr: string;
}

/** What a program does to the world (real: child processes and a clock; tests may replace it). */
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

/** The real world: kubectl from the PATH, a blocking sleep, the wall clock, the process's stdout and stderr. */
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
            ? "kubectl is not on the PATH of the machine that runs Pulumi: install kubectl there"
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

/**
 * The arguments every kubectl call starts with: the kubeconfig and context from `REGISTRY_SETUP_KUBECONFIG` and
 * `REGISTRY_SETUP_CONTEXT` (else kubectl's own defaults), a request timeout, and the namespace.
 */
export function kubectlBase(env: NodeJS.ProcessEnv, namespace: string): string[] {
  return [
    ...(env.REGISTRY_SETUP_KUBECONFIG ? ["--kubeconfig", env.REGISTRY_SETUP_KUBECONFIG] : []),
    ...(env.REGISTRY_SETUP_CONTEXT ? ["--context", env.REGISTRY_SETUP_CONTEXT] : []),
    "--request-timeout",
    "30s",
    "--namespace",
    namespace,
  ];
}

/** `REGISTRY_SETUP_WAIT_SECONDS` in milliseconds (`fallback` seconds when unset), or undefined when invalid. */
export function waitMs(env: NodeJS.ProcessEnv, fallback: number): number | undefined {
  const wait =
    env.REGISTRY_SETUP_WAIT_SECONDS === undefined ? fallback : Number(env.REGISTRY_SETUP_WAIT_SECONDS);
  return Number.isInteger(wait) && wait >= 0 ? wait * 1000 : undefined;
}
