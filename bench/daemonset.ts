/**
 * The DaemonSet transport's cost, under Pulumi mocks: for a 20-registry declaration in 1, 3 and 10 node classes,
 * the resources the program declares (Kubernetes objects and the give-back commands), the payload bytes, the bytes
 * of every resource's inputs (what Pulumi keeps in its state, once as inputs and again as outputs), and the
 * program's build time. A node class names no node: every figure holds for 3 nodes and for 1000. Next to it, the
 * SSH transport (ClusterRegistries) for 1000 nodes, measured the same way.
 *
 * Each figure comes from its own child process (a fresh Pulumi runtime in mock mode). Used by `npm run bench`;
 * runs on its own too: `npx ts-node --transpile-only bench/daemonset.ts`.
 */
import { spawnSync } from "child_process";
import * as pulumi from "@pulumi/pulumi";
import type { NodeClass, RuntimeProfile } from "../components";
import { benchDeclaration } from "./declaration";

/** What one program declared. */
interface Figures {
  /** Kubernetes objects (Namespace, payloads, DaemonSets). */
  objects: number;
  /** Other custom resources (give-back commands, remote commands). */
  commands: number;
  /** The packed node scripts' bytes, as the payloads (or the commands' stdin) carry them. */
  payloadBytes: number;
  /** JSON bytes of every custom resource's inputs. */
  inputBytes: number;
  /** Construction until every resource is registered. */
  ms: number;
  heapMiB: number;
}

/** Profile sets the classes cycle through (a cluster's node pools differ in their runtimes). */
const PROFILE_SETS: RuntimeProfile[][] = [
  [{ kind: "containerd" }],
  [{ kind: "containerd" }, { kind: "kubelet" }],
  [{ kind: "microk8s" }],
  [{ kind: "k3s", role: "agent" }],
  [{ kind: "containerd", credentials: "hosts" }],
];

function classes(n: number): NodeClass[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `pool${i}`,
    nodeSelector: { "example.com/pool": `pool${i}` },
    profiles: PROFILE_SETS[i % PROFILE_SETS.length],
  }));
}

async function measure(mode: "daemonset" | "ssh", count: number): Promise<Figures> {
  let objects = 0;
  let commands = 0;
  let payloadBytes = 0;
  let inputBytes = 0;
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        if (args.custom === false) return { id: "", state: {} };
        inputBytes += JSON.stringify(args.inputs).length;
        const state: Record<string, unknown> = { ...args.inputs, stdout: "", stderr: "" };
        if (args.type.startsWith("kubernetes:")) {
          objects++;
          const data = args.inputs.data as Record<string, string> | undefined;
          if (data?.["node.sh"]) payloadBytes += data["node.sh"].length;
          const metadata = (args.inputs.metadata ?? {}) as Record<string, unknown>;
          state.metadata = { ...metadata, uid: `uid-${args.name}` };
        } else {
          commands++;
          if (args.type === "command:remote:Command") payloadBytes += String(args.inputs.stdin ?? "").length;
        }
        return { id: `${args.name}-id`, state };
      },
      call: (args) => args.inputs,
    },
    "bench",
    "bench",
    false,
  );
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const lib = require("../components") as typeof import("../components");
  const t0 = process.hrtime.bigint();
  if (mode === "daemonset") {
    const c = new lib.NodeClassRegistries("bench", {
      registries: benchDeclaration(20),
      classes: classes(count),
    });
    await new Promise((resolve) => c.files.apply(resolve));
  } else {
    const c = new lib.ClusterRegistries("bench", {
      registries: benchDeclaration(20),
      nodes: Array.from({ length: count }, (_, i) => ({
        name: `n${i}`,
        connection: {
          host: `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`,
          user: "root",
          privateKey: "k",
          hostKey: "ssh-ed25519 AAAA",
        },
        profiles: [{ kind: "containerd" as const }],
      })),
      maxUnavailable: 10,
    });
    await new Promise((resolve) => c.summaries.apply(resolve));
  }
  // Registrations go on after the outputs resolve (a DaemonSet waits for its payload's uid): drain the queue.
  await pulumi.runtime.disconnect();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return {
    objects,
    commands,
    payloadBytes,
    inputBytes,
    ms,
    heapMiB: process.memoryUsage().heapUsed / 2 ** 20,
  };
}

function child(mode: string, count: number): Figures {
  const r = spawnSync(
    process.execPath,
    [require.resolve("ts-node/dist/bin"), "--transpile-only", __filename, "--one", mode, String(count)],
    { encoding: "utf8", maxBuffer: 1 << 26 },
  );
  if (r.status !== 0) throw new Error(`bench child ${mode} ${count} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").at(-1)!) as Figures;
}

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

/** Print the figures (used by `npm run bench`). */
export function main(): void {
  console.log(
    "\nDaemonSet transport (NodeClassRegistries), 20 registries, under mocks; a class lists no node, so",
  );
  console.log("every figure is the same for 3 nodes and for 1000:");
  console.log("  classes  k8s objects  give-back cmds  payload bytes  all inputs (state)  build");
  for (const n of [1, 3, 10]) {
    const f = child("daemonset", n);
    console.log(
      `  ${String(n).padStart(7)}  ${String(f.objects).padStart(11)}  ${String(f.commands).padStart(13)}  ${kib(f.payloadBytes).padStart(13)}  ${kib(f.inputBytes).padStart(18)}  ${f.ms.toFixed(0).padStart(4)} ms, heap ${f.heapMiB.toFixed(0)} MiB`,
    );
  }
  const ssh = child("ssh", 1000);
  console.log("SSH transport (ClusterRegistries), 1000 nodes x 20 registries, same measure:");
  console.log(
    `  ${ssh.commands} remote commands, stdin ${kib(ssh.payloadBytes)}, all inputs ${kib(ssh.inputBytes)}, build ${ssh.ms.toFixed(0)} ms, heap ${ssh.heapMiB.toFixed(0)} MiB`,
  );
}

if (require.main === module) {
  if (process.argv[2] === "--one") {
    measure(process.argv[3] as "daemonset" | "ssh", Number(process.argv[4])).then((f) =>
      console.log(JSON.stringify(f)),
    );
  } else main();
}
