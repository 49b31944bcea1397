/**
 * `npm run bench:node` (as root, under the rig lock: `flock /tmp/rig.lock npm run bench:node [-- --old <dir>]`):
 * what the node script itself costs on a rig node, next to the physical limit.
 *
 * Times are measured inside the node (the transport is left out): from just before `sh -s -- apply` starts to
 * just after it exits, `date +%s%N` on the node. Each figure is the median of ROUNDS runs, interleaved so that
 * the machine's load hits every contender alike. The declaration is 4 registries (4 hosts.toml, one of them with
 * a CA file) under the containerd profile, files only (config_path already set by the image): a changing apply
 * rewrites the 4 hosts.toml (the mirror paths flip between two values), a no-op apply changes nothing.
 *
 * - physical limit: one `sh` that writes the same 5 files from here-docs (mkdir -p, cat >), nothing else;
 * - this library: the production script;
 * - `--old <dir>`: the library found in `<dir>/components/node` (e.g. `git archive main components | tar -x -C <dir>`,
 *   with <dir> inside this repository so that its imports resolve), for a before/after figure.
 *
 * Starts the rig if it is not up (and stops it again afterwards). Prints figures; asserts nothing.
 */
import { spawnSync } from "child_process";
import * as path from "path";
import * as nodeLayer from "../components/node";
import { RegistriesArgs } from "../components/render";
import * as renderLayer from "../components/render";
import { loadRig, nodeExec, RigNode } from "../test/helpers/rig";

const RIG_SH = path.join(__dirname, "..", "test", "rig", "rig.sh");
const ROUNDS = Number(process.env.ROUNDS ?? 15);

type Lib = typeof nodeLayer;
const components = { ...nodeLayer, normalizeRegistries: renderLayer.normalizeRegistries };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function declaration(variant: string, plain: string, dead: string, ca: string): RegistriesArgs {
  const regs: RegistriesArgs = {};
  for (let i = 0; i < 3; i++) {
    regs[`r${i}.bench.example`] = {
      server: dead,
      mirrors: [{ endpoint: `http://${plain}/v2/${variant}${i}`, overridePath: true }],
    };
  }
  regs["tls.bench.example:5443"] = {
    server: dead.replace("http://", "https://"),
    mirrors: [{ endpoint: `https://10.123.0.1:5443/v2/${variant}`, overridePath: true }],
    tls: { ca },
  };
  return regs;
}

function script(lib: Lib, n: RigNode, variant: string, certsDir: string, stateRoot: string): string {
  const rig = loadRig();
  const plan = lib.planNode(
    renderLayer.normalizeRegistries(
      declaration(variant, rig.registries.plain.host, rig.deadServer, rig.tls.caPem),
    ),
    {
      node: n.name,
      owner: "bench",
      profiles: [{ kind: "containerd", certsDir, credentials: "hosts", manageConfigPath: false }],
    },
  );
  // What the components send: the packed script of each part (files only here: one part, `files`).
  const parts = lib.planParts(plan);
  if (parts.length !== 1) throw new Error("the bench declaration must plan one part");
  return lib.packNodeScript(lib.scriptBody(parts[0], { stateRoot }), n.name);
}

/** The physical limit: the same files written by one sh from here-docs. */
function physical(variant: string, certsDir: string): string {
  const rig = loadRig();
  const plan = components.planNode(
    components.normalizeRegistries(
      declaration(variant, rig.registries.plain.host, rig.deadServer, rig.tls.caPem),
    ),
    {
      node: "n",
      owner: "bench",
      profiles: [{ kind: "containerd", certsDir, credentials: "hosts", manageConfigPath: false }],
    },
  );
  const lines = ["set -e"];
  for (const e of plan.entries) {
    if (e.kind !== "file") throw new Error("the bench declaration must plan whole files only");
    lines.push(
      `mkdir -p '${path.posix.dirname(e.path)}'`,
      `cat > '${e.path}' <<'EOF_PHYS'`,
      e.content.replace(/\n$/, ""),
      "EOF_PHYS",
    );
  }
  return `${lines.join("\n")}\n`;
}

/** Node-side wall time of one `sh -s -- <mode>` with `text` on stdin, in ms. */
async function timed(n: RigNode, mode: string, text: string): Promise<number> {
  const r = await nodeExec(
    n,
    [
      "sh",
      "-c",
      `t0=$(date +%s%N); sh -s -- ${mode} >/dev/null 2>/tmp/bench.err; rc=$?; t1=$(date +%s%N); echo "$rc $(( (t1 - t0) / 1000 ))"`,
    ],
    { stdin: text },
  );
  const [rc, us] = r.stdout.trim().split(" ");
  if (rc !== "0")
    throw new Error(
      `${mode} failed (${rc}) on ${n.name}: ${(await nodeExec(n, ["cat", "/tmp/bench.err"])).stdout}`,
    );
  return Number(us) / 1000;
}

async function main(): Promise<void> {
  const oldDir = process.argv.includes("--old") ? process.argv[process.argv.indexOf("--old") + 1] : undefined;
  const started = spawnSync("bash", [RIG_SH, "status"]).status !== 0;
  if (started) {
    const r = spawnSync("bash", [RIG_SH, "start"], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(r.stderr);
  }
  const rig = loadRig();
  const n = rig.nodes[0];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const old = oldDir ? (require(path.resolve(oldDir, "components", "node")) as Lib) : undefined;
  const contenders: {
    name: string;
    make: (v: string) => string;
    mode: string;
    root?: string;
    dir: string;
  }[] = [
    {
      name: "physical limit (one sh, here-docs)",
      make: (v) => physical(v, "/etc/containerd/bench-phys.d"),
      mode: "apply",
      dir: "/etc/containerd/bench-phys.d",
    },
    {
      name: "this library",
      make: (v) => script(components, n, v, "/etc/containerd/bench-new.d", "/var/lib/prr-bench-new"),
      mode: "apply",
      root: "/var/lib/prr-bench-new",
      dir: "/etc/containerd/bench-new.d",
    },
    ...(old
      ? [
          {
            name: `library in ${oldDir}`,
            make: (v: string) => script(old, n, v, "/etc/containerd/bench-old.d", "/var/lib/prr-bench-old"),
            mode: "apply",
            root: "/var/lib/prr-bench-old",
            dir: "/etc/containerd/bench-old.d",
          },
        ]
      : []),
  ];
  const changing = new Map<string, number[]>();
  const noop = new Map<string, number[]>();
  try {
    for (const c of contenders) await timed(n, c.mode, c.make("a")); // first apply (creates everything)
    for (let round = 0; round < ROUNDS; round++) {
      const v = round % 2 ? "a" : "b";
      for (const c of contenders) {
        changing.set(c.name, [...(changing.get(c.name) ?? []), await timed(n, c.mode, c.make(v))]);
        noop.set(c.name, [...(noop.get(c.name) ?? []), await timed(n, c.mode, c.make(v))]);
      }
    }
    console.log(`node-side time of one run on ${n.name}, median of ${ROUNDS} (ms; 4 hosts.toml + 1 CA):\n`);
    console.log("| contender | changing apply | no-op apply | stdin bytes |");
    console.log("| --- | --- | --- | --- |");
    for (const c of contenders) {
      console.log(
        `| ${c.name} | ${median(changing.get(c.name)!).toFixed(1)} | ${median(noop.get(c.name)!).toFixed(1)} | ${c.make("a").length} |`,
      );
    }
  } finally {
    for (const c of contenders) {
      if (c.root && c.name !== contenders[0].name)
        await nodeExec(n, ["sh", "-s", "--", "destroy"], { stdin: c.make("a") });
      await nodeExec(n, ["rm", "-rf", c.dir, ...(c.root ? [c.root] : []), "/tmp/bench.err"]);
    }
    if (started) spawnSync("bash", [RIG_SH, "stop"]);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
