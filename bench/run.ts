/**
 * `npm run bench`: what an apply costs, next to the physical limit, on the rig's three real SSH nodes; what travels;
 * what building a program costs. Prints figures side by side; asserts nothing (tests assert behaviour).
 *
 * - apply of a 20-registry change, a forced re-run of an unchanged declaration (a no-op is 0 sessions: Pulumi runs
 *   nothing), and a one-mirror edit, each against the physical limit: one `sh -s` per node over the same SSH, writing
 *   the same files from here-documents, nothing else;
 * - a mirror edit under the default containerd profile on 3 nodes, against the same edit on 1 node (goal: about one
 *   node's time: files parts never wait for each other);
 * - stdin bytes per node (packed script) for 20 registries (goal ≤ 16 KiB);
 * - the program build under Pulumi mocks for 100 and 1000 nodes × 20 registries, compiled library, next to the SDK's
 *   own cost of registering the same number of bare resources.
 *
 * Starts the rig if it is not up (and stops it again afterwards).
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { ClusterRegistries, RegistriesInput } from "../components";
import { planNode, planParts, packNodeScript, scriptBody } from "../components/node";
import { normalizeRegistries } from "../components/render";
import { declare, SimulatedStack } from "../test/helpers/commandHarness";
import { loadRig, Rig, RigNode, sshRun } from "../test/helpers/rig";
import { main as daemonsetFigures } from "./daemonset";
import { benchDeclaration } from "./declaration";

const REPO = path.join(__dirname, "..");
const RIG_SH = path.join(REPO, "test", "rig", "rig.sh");
const ROUNDS = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function time<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = process.hrtime.bigint();
  const r = await fn();
  return [r, Number(process.hrtime.bigint() - t0) / 1e6];
}

const fmt = (ms: number) => `${ms.toFixed(0).padStart(6)} ms`;
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;

/** The files the containerd profile writes for a declaration (hosts.toml only: config_path is set once). */
function filesOf(regs: RegistriesInput, root: string): { path: string; content: string }[] {
  return planNode(normalizeRegistries(regs as never), {
    node: "n",
    owner: "limit",
    profiles: [{ kind: "containerd", manageConfigPath: false, credentials: "hosts" }],
  }).entries.map((e) => ({
    path: e.path.replace("/etc/containerd/certs.d", root),
    content: (e as { content: string }).content,
  }));
}

/** The physical limit: one `sh -s` per node, the files in here-documents, nothing else. */
function limitScript(files: { path: string; content: string }[]): string {
  const dirs = [...new Set(files.map((f) => path.posix.dirname(f.path)))];
  return [
    "set -e",
    `mkdir -p ${dirs.map((d) => `'${d}'`).join(" ")}`,
    ...files.map((f) => `cat > '${f.path}' <<'LIMIT_EOF'\n${f.content}LIMIT_EOF`),
    "",
  ].join("\n");
}

async function applyLimit(nodes: RigNode[], files: { path: string; content: string }[]): Promise<void> {
  const script = limitScript(files);
  await Promise.all(
    nodes.map(async (n) => {
      const r = await sshRun(n, "/bin/sh -s", script);
      if (r.code !== 0) throw new Error(r.stderr);
    }),
  );
}

async function main(): Promise<void> {
  const started = spawnSync("bash", [RIG_SH, "status"]).status !== 0;
  if (started) {
    const r = spawnSync("bash", [RIG_SH, "start"], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(r.stderr);
  }
  try {
    await applies(loadRig());
    sizes();
    builds();
  } finally {
    if (started) spawnSync("bash", [RIG_SH, "stop"]);
  }
}

async function applies(rig: Rig): Promise<void> {
  const nodes = rig.nodes;
  const plain = rig.registries.plain.host;
  const restart = [rig.scripts.nodeContainerd, "restart"];
  const decl = (variant: string, edit = -1): RegistriesInput => {
    const regs = benchDeclaration(20, variant) as Record<
      string,
      { server: string; mirrors: { endpoint: string; overridePath: boolean }[] }
    >;
    for (const r of Object.values(regs)) {
      r.server = rig.deadServer;
      r.mirrors = r.mirrors.map((m) => ({ ...m, endpoint: m.endpoint.replace("10.123.0.1:5000", plain) }));
    }
    if (edit >= 0) regs[`r${edit}.bench.example`].mirrors[0].endpoint = `http://${plain}/v2/edited${variant}`;
    return regs;
  };
  const program =
    (regs: RegistriesInput, on: RigNode[] = nodes) =>
    () =>
      new ClusterRegistries("bench", {
        registries: regs,
        owner: "bench",
        nodes: on.map((n) => ({
          name: n.name,
          connection: { host: n.ip, port: n.port, user: "root", hostKey: n.hostKey },
          // The default containerd profile: config_path in config.toml (a restart, once), hosts files after.
          profiles: [{ kind: "containerd" as const, restart, socket: n.containerdSocket }],
        })),
      });

  console.log("registry-setup benchmark: 3 real SSH nodes (rig), containerd profile, 20 registries\n");
  const stack = new SimulatedStack();
  const first = await declare(program(decl("a")));
  const [, tFirst] = await time(() => stack.up(first));
  console.log(`first apply (config_path set: one containerd restart per node, rolled): ${fmt(tFirst)}`);

  const rows: [string, number[], number[]][] = [
    ["changing apply (20 hosts.toml)", [], []],
    ["forced re-run, nothing changed", [], []],
    ["one mirror edited", [], []],
  ];
  for (let round = 0; round < ROUNDS; round++) {
    const v = round % 2 ? "a" : "b";
    // Changing: every file differs from what the node has.
    // The engine's part only: the program is declared first (its cost is the build figure below).
    const changing = await declare(program(decl(v)));
    const [, t1] = await time(() => stack.up(changing));
    const [, l1] = await time(() => applyLimit(nodes, filesOf(decl(v), "/etc/containerd/limit.d")));
    rows[0][1].push(t1);
    rows[0][2].push(l1);
    // Forced re-run: the same scripts again (Pulumi itself would open no session at all).
    const [, t2] = await time(() =>
      Promise.all(
        [...stack.commands.values()].map((c) =>
          sshRun(
            nodes.find((n) => n.ip === c.state!.connection.host)!,
            c.state!.update!,
            c.state!.stdin,
          ),
        ),
      ),
    );
    const [, l2] = await time(() => applyLimit(nodes, filesOf(decl(v), "/etc/containerd/limit.d")));
    rows[1][1].push(t2);
    rows[1][2].push(l2);
    // One mirror edited.
    const edit = await declare(program(decl(v, 7)));
    const [, t3] = await time(() => stack.up(edit));
    const edited = filesOf(decl(v, 7), "/etc/containerd/limit.d").filter((f) =>
      f.path.includes("r7.bench.example"),
    );
    const [, l3] = await time(() => applyLimit(nodes, edited));
    rows[2][1].push(t3);
    rows[2][2].push(l3);
  }
  console.log(
    `\n${"median of " + ROUNDS + ", 3 nodes in parallel".padEnd(40)}  this library   physical limit   ratio`,
  );
  for (const [label, ours, limit] of rows) {
    console.log(
      `${label.padEnd(40)}  ${fmt(median(ours))}      ${fmt(median(limit))}      ${ratio(median(ours), median(limit))}`,
    );
  }
  const sessions = [...stack.commands.values()].map((c) => `${c.name}=${c.sessions}`);
  console.log(`sessions so far per delivery: ${sessions.join(" ")}`);

  // A mirror edit on 3 nodes against 1 node: the files parts never wait for each other.
  const single = new SimulatedStack();
  await single.up(await declare(program(decl("a"), [nodes[0]])));
  const one: number[] = [];
  const three: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const v = round % 2 ? "a" : "b";
    const d1 = await declare(program(decl(v, 3), [nodes[0]]));
    one.push((await time(() => single.up(d1)))[1]);
    const d3 = await declare(program(decl(v, 3)));
    three.push((await time(() => stack.up(d3)))[1]);
  }
  console.log(
    `\nmirror edit, default containerd profile: 1 node ${fmt(median(one))}, 3 nodes ${fmt(median(three))} (${ratio(median(three), median(one))} of one node; no batch chain)`,
  );
  await single.destroy();
  await stack.destroy();
  await Promise.all(nodes.map((n) => sshRun(n, "rm -rf /etc/containerd/limit.d", "")));
}

function sizes(): void {
  const model = normalizeRegistries(benchDeclaration(20) as never);
  const plan = planNode(model, { node: "node-1", owner: "registries", profiles: [{ kind: "containerd" }] });
  console.log("\nstdin per node, 20 registries, containerd profile (packed script; goal ≤ 16 KiB):");
  for (const part of planParts(plan)) {
    const body = scriptBody(part);
    const packed = packNodeScript(body, "node-1");
    console.log(
      `  ${part.part!.padEnd(8)} ${(packed.length / 1024).toFixed(1).padStart(5)} KiB packed (${(body.length / 1024).toFixed(1)} KiB unpacked, ${part.entries.length} entries)`,
    );
  }
}

function builds(): void {
  spawnSync("npm", ["run", "build", "--silent"], { cwd: REPO, stdio: "ignore" });
  const run = (...args: string[]) => {
    const r = spawnSync(process.execPath, [path.join(__dirname, "measure.js"), ...args], {
      cwd: REPO,
      encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout.trim().split("\n").pop()!) as {
      ms: number;
      resources: number;
      heapMiB: number;
    };
  };
  console.log(
    "\nprogram build under Pulumi mocks, 20 registries, compiled library (SDK floor: the same resources, bare):",
  );
  for (const n of [100, 1000]) {
    const a = run("ours", String(n), "20");
    const f = run("floor", String(n));
    console.log(
      `  ${String(n).padStart(4)} nodes: ${fmt(a.ms)} for ${a.resources} resources (${(a.ms / n).toFixed(1)} ms/node, ${a.heapMiB.toFixed(0)} MiB heap); SDK floor ${fmt(f.ms)} (${ratio(a.ms, f.ms)})`,
    );
  }
}

main()
  // The DaemonSet transport's figures need no rig (mocks, in child processes).
  .then(() => daemonsetFigures())
  .catch((e) => {
    console.error(e);
    process.exit(1);
  });
