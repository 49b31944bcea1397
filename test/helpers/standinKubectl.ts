/**
 * Runs declared `local.Command`s of the ServiceAccount program as @pulumi/command would (`/bin/sh -c <command>`,
 * stdin, the process environment plus `environment`), against the STAND-IN kubectl of test/standins/bin (see that
 * file: no API server can run here) and a JSON file that holds the ServiceAccounts.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** The directory that holds the stand-in kubectl. */
export const STANDIN_BIN = path.join(__dirname, "..", "standins", "bin");

/** A ServiceAccount as the stand-in stores it. */
export interface StandInServiceAccount {
  apiVersion: "v1";
  kind: "ServiceAccount";
  metadata: {
    name: string;
    namespace: string;
    resourceVersion: string;
    annotations?: Record<string, string>;
  };
  imagePullSecrets?: { name?: string }[];
}

/** A ServiceAccount with these `imagePullSecrets` names (undefined: no field). */
export function serviceAccount(namespace: string, name: string, list?: string[]): StandInServiceAccount {
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name, namespace, resourceVersion: "1" },
    ...(list ? { imagePullSecrets: list.map((n) => ({ name: n })) } : {}),
  };
}

/** A stand-in cluster: a state file in a fresh directory. */
export class StandInCluster {
  readonly file: string;

  constructor(serviceAccounts: StandInServiceAccount[]) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "standin-kubectl-"));
    this.file = path.join(dir, "state.json");
    const byKey = Object.fromEntries(
      serviceAccounts.map((s) => [`${s.metadata.namespace}/${s.metadata.name}`, s]),
    );
    fs.writeFileSync(this.file, JSON.stringify({ serviceAccounts: byKey }));
  }

  /** The stored ServiceAccount `<ns>/<name>`. */
  get(key: string): StandInServiceAccount | undefined {
    return (
      JSON.parse(fs.readFileSync(this.file, "utf8")) as {
        serviceAccounts: Record<string, StandInServiceAccount>;
      }
    ).serviceAccounts[key];
  }

  /** Its `imagePullSecrets` names. */
  list(key: string): (string | undefined)[] | undefined {
    return this.get(key)?.imagePullSecrets?.map((e) => e.name);
  }

  /** Run one of a local.Command's commands (its declared inputs) against this cluster. */
  run(
    inputs: { create?: unknown; delete?: unknown; stdin?: unknown; environment?: unknown },
    which: "create" | "delete",
  ): { code: number; stdout: string; stderr: string } {
    const r = spawnSync("/bin/sh", ["-c", String(inputs[which])], {
      input: String(inputs.stdin ?? ""),
      encoding: "utf8",
      env: {
        PATH: `${STANDIN_BIN}:${process.env.PATH}`,
        STANDIN_KUBECTL_STATE: this.file,
        ...(inputs.environment as Record<string, string>),
      },
    });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  }

  /** Remove the state directory. */
  dispose(): void {
    fs.rmSync(path.dirname(this.file), { recursive: true, force: true });
  }
}
