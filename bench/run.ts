/**
 * `npm run bench`: measures, on the rig's three real SSH nodes, what one apply costs.
 *
 * - SSH sessions per node for a change (goal 1) and for a no-op (goal 0), counted by the @pulumi/command
 *   harness that runs the commands ClusterRegistries declares;
 * - service restarts for a hosts.toml-only change (goal 0), from the nodes' own summaries and containerd PIDs;
 * - wall time of an apply of a 20-registry declaration next to a naive baseline run in the same process on the
 *   same nodes: one SSH call per file (mkdir + write), as a hand-rolled loop or a per-file remote command would;
 * - pure costs: normalise + plan + script for 1, 20 and 200 registries.
 *
 * Starts the rig if it is not up (and stops it again afterwards). Prints figures; asserts nothing.
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { ClusterRegistries } from "../components";
import { buildNodeScript, parseSummary, planNode } from "../components/node";
import { normalizeRegistries, RegistriesArgs } from "../components/render";
import { declare, SimulatedStack } from "../test/helpers/commandHarness";
import { main as daemonsetFigures } from "./daemonset";
import { loadRig, RigNode, sshRun } from "../test/helpers/rig";

const RIG_SH = path.join(__dirname, "..", "test", "rig", "rig.sh");

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function time<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = process.hrtime.bigint();
  const r = await fn();
  return [r, Number(process.hrtime.bigint() - t0) / 1e6];
}

function declaration(n: number, variant: string, plain: string, dead: string): RegistriesArgs {
  const regs: RegistriesArgs = {};
  for (let i = 0; i < n; i++) {
    regs[`r${i}.bench.example`] = {
      server: dead,
      mirrors: [{ endpoint: `http://${plain}/v2/${variant}${i}`, overridePath: true }],
    };
  }
  return regs;
}

async function main(): Promise<void> {
  const started = spawnSync("bash", [RIG_SH, "status"]).status !== 0;
  if (started) {
    const r = spawnSync("bash", [RIG_SH, "start"], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(r.stderr);
  }
  try {
    const rig = loadRig();
    const plain = rig.registries.plain.host;
    const nodes = rig.nodes;
    const restart = [rig.scripts.nodeContainerd, "restart"];
    const pids = () =>
      nodes.map((n) => spawnSync("cat", [n.containerdPidFile], { encoding: "utf8" }).stdout.trim());
    const program = (regs: RegistriesArgs) => () =>
      new ClusterRegistries("bench", {
        registries: regs,
        owner: "bench",
        nodes: nodes.map((n) => ({
          name: n.name,
          connection: { host: n.ip, port: n.port, user: "root", hostKey: n.hostKey },
          // hosts.toml only: config_path is already set by the first apply's containerd profile below.
          profiles: [{ kind: "containerd" as const, restart, credentials: "hosts" as const }],
        })),
        maxUnavailable: 3,
      });

    console.log("registry-setup benchmark: 3 real SSH nodes (rig), containerd profile\n");
    const stack = new SimulatedStack();
    const sessions = () => [...stack.commands.values()].map((c) => c.sessions);

    const [, tCreate] = await time(async () =>
      stack.up(await declare(program(declaration(20, "a", plain, rig.deadServer)))),
    );
    const afterCreate = sessions();
    const pidsBefore = pids();
    const [, tNoop] = await time(async () =>
      stack.up(await declare(program(declaration(20, "a", plain, rig.deadServer)))),
    );
    const afterNoop = sessions();
    const [changed, tChange] = await time(async () =>
      stack.up(await declare(program(declaration(20, "b", plain, rig.deadServer)))),
    );
    const afterChange = sessions();
    const restarts = [...changed.values()].map((r) =>
      typeof r === "string"
        ? 0
        : parseSummary(r.stdout)!.actions.filter((a) => a.startsWith("restart:")).length,
    );
    const pidsAfter = pids();

    console.log("sessions per node, first apply:           ", afterCreate.join(" "), "(goal 1)");
    console.log(
      "sessions per node, no-op apply:            ",
      afterNoop.map((s, i) => s - afterCreate[i]).join(" "),
      "(goal 0)",
    );
    console.log(
      "sessions per node, hosts.toml-only change: ",
      afterChange.map((s, i) => s - afterNoop[i]).join(" "),
      "(goal 1)",
    );
    console.log(
      "restarts, hosts.toml-only change:          ",
      restarts.join(" "),
      "(goal 0); containerd PIDs unchanged:",
      pidsAfter.join() === pidsBefore.join(),
    );
    console.log(
      `wall time: first apply ${tCreate.toFixed(0)} ms (incl. one containerd restart per node to set config_path), no-op ${tNoop.toFixed(0)} ms, change ${tChange.toFixed(0)} ms\n`,
    );

    // Same change, same nodes, same process: our apply vs one SSH call per file.
    const files = (variant: string, n: RigNode) =>
      planNode(normalizeRegistries(declaration(20, variant, plain, rig.deadServer)), {
        node: n.name,
        owner: "naive",
        profiles: [{ kind: "containerd", credentials: "hosts", manageConfigPath: false }],
      }).entries.map((e) => ({
        path: e.path.replace("/etc/containerd/certs.d", "/etc/containerd/naive.d"),
        content: (e as { content: string }).content,
      }));
    const naive = async (variant: string) =>
      Promise.all(
        nodes.map(async (n) => {
          for (const f of files(variant, n)) {
            const r = await sshRun(n, `mkdir -p "$(dirname '${f.path}')" && cat > '${f.path}'`, f.content);
            if (r.code !== 0) throw new Error(r.stderr);
          }
        }),
      );
    const ours: number[] = [];
    const base: number[] = [];
    for (let round = 0; round < 3; round++) {
      const v = round % 2 ? "a" : "c";
      const [, t1] = await time(async () =>
        stack.up(await declare(program(declaration(20, v, plain, rig.deadServer)))),
      );
      ours.push(t1);
      const [, t2] = await time(() => naive(v));
      base.push(t2);
    }
    const fileCount = files("a", nodes[0]).length;
    console.log(
      `apply of a 20-registry change (${fileCount} files per node), 3 nodes in parallel, median of 3:`,
    );
    console.log(`  this library (1 session per node):  ${median(ours).toFixed(0)} ms`);
    console.log(
      `  naive, one SSH call per file:       ${median(base).toFixed(0)} ms (${fileCount} sessions per node)`,
    );
    console.log(`  ratio naive / this library:         ${(median(base) / median(ours)).toFixed(1)}x\n`);

    await stack.destroy();
    await Promise.all(nodes.map((n) => sshRun(n, "rm -rf /etc/containerd/naive.d", "")));

    console.log("pure cost (normalise + plan + script), per node:");
    for (const n of [1, 20, 200]) {
      const regs = declaration(n, "a", plain, rig.deadServer);
      const runs: number[] = [];
      let size = 0;
      for (let i = 0; i < 5; i++) {
        const t0 = process.hrtime.bigint();
        const script = buildNodeScript(
          planNode(normalizeRegistries(regs), {
            node: "n",
            owner: "bench",
            profiles: [{ kind: "containerd" }],
          }),
        );
        runs.push(Number(process.hrtime.bigint() - t0) / 1e6);
        size = script.length;
      }
      console.log(
        `  ${String(n).padStart(3)} registries: ${median(runs).toFixed(1)} ms, script ${(size / 1024).toFixed(1)} KiB`,
      );
    }
  } finally {
    if (started) spawnSync("bash", [RIG_SH, "stop"]);
  }
}

main()
  // The DaemonSet transport's figures need no rig (mocks, in child processes).
  .then(() => daemonsetFigures())
  .catch((e) => {
    console.error(e);
    process.exit(1);
  });
