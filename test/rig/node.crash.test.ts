/**
 * Issue 8, the crash-point harness: every step of the node script that changes something on a node is labelled
 * (`p_crash_point <label>` in components/node/sh/lib.sh). For each scenario (first apply, an update, a dropped
 * file, a removed credential, destroy) and each label, the script is killed with SIGKILL exactly there; then the
 * same run is repeated (what Pulumi does after a failed update) and a destroy follows. The node must converge on
 * exactly what an uninterrupted run leaves, and end byte for byte as it was before the first apply (content,
 * mode, owner, symbolic links), with the canary password nowhere on the node but in the declared targets.
 *
 * The scripts are the production ones; the harness rewrites the one inert line `p_crash_point() { :; }` into a
 * function that kills the shell (see crashVariant). Scripts run inside the nodes with nsenter (the transport does
 * not matter here), on all three nodes at once. Restart and reload commands are `true`: the services are not
 * what is under test (the health-check test in node.items.test.ts restarts a real containerd).
 *
 * The same checks run for ENOSPC at each write (a small tmpfs in a node's private mount namespace), an immutable
 * target and a read-only one. The declared daemon.json is a symbolic link in every scenario.
 */
import * as fs from "fs";
import * as path from "path";
import { RuntimeProfile as ProfileArgs, ScriptOptions } from "../../components/node";
import { RegistriesArgs } from "../../components/render";
import { loadRig, nodeExec, Rig, RigNode } from "../helpers/rig";
import {
  crashLabels,
  crashVariant,
  filesContaining,
  labelVariant,
  nodeScript,
  nodeSh,
  resetNode,
  runOk,
  stockConfig,
  runScript,
  snapshot,
} from "../helpers/nodeScript";

const rig: Rig = loadRig();
const CANARY = rig.auth.password;
const TLS = rig.registries.tls.host;
const PLAIN = rig.registries.plain.host;
/** Where a credential may be while the declaration holds one: the declared targets that carry it. */
const CREDENTIAL_TARGETS = ["/etc/containerd/config.toml", "/var/lib/kubelet/config.json"];

const DAEMON_REAL = '{\n  "log-driver": "journald",\n  "insecure-registries": ["legacy.example:5000"]\n}\n';

/** The node before any apply: containerd's stock config, a daemon.json that is a link to a file owned by uid 1234. */
async function pristine(n: RigNode): Promise<void> {
  await resetNode(
    n,
    `printf '%s' '${DAEMON_REAL}' > /etc/docker/daemon.real.json
    chown 1234:1234 /etc/docker/daemon.real.json
    chmod 640 /etc/docker/daemon.real.json
    ln -s daemon.real.json /etc/docker/daemon.json`,
  );
}

function registries(v: { mirror: string; password?: string; dockerIo?: boolean }): RegistriesArgs {
  return {
    ...(v.dockerIo === false
      ? {}
      : {
          "docker.io": {
            server: rig.deadServer,
            mirrors: [{ endpoint: `http://${PLAIN}/v2/${v.mirror}`, overridePath: true as const }],
          },
        }),
    [TLS]: {
      tls: { ca: rig.tls.caPem },
      ...(v.password ? { auth: { username: rig.auth.user, password: v.password } } : {}),
    },
  };
}

function profiles(docker = true): ProfileArgs[] {
  return [
    // The check binary is left out on purpose: the harness is about the switch, not about containerd's parser.
    {
      kind: "containerd",
      credentials: "cri",
      restart: ["true"],
      containerdBinary: "/nonexistent/containerd",
    },
    { kind: "kubelet" },
    ...(docker ? [{ kind: "docker" as const, reload: ["true"] }] : []),
  ];
}

type Build = (n: RigNode, o?: ScriptOptions) => string;
const A: Build = (n, o) => nodeScript(n, registries({ mirror: "ns", password: CANARY }), profiles(), o);
const B: Build = (n, o) =>
  nodeScript(n, registries({ mirror: "alt", password: `${CANARY}-b` }), profiles(), o);
/** B without docker.io (its hosts.toml goes) and without the docker profile (daemon.json is given back). */
const C: Build = (n, o) =>
  nodeScript(n, registries({ mirror: "alt", password: `${CANARY}-b`, dockerIo: false }), profiles(false), o);
/** B without the credential: the CRI block leaves config.toml, kubelet's config.json goes. */
const D: Build = (n, o) => nodeScript(n, registries({ mirror: "alt" }), profiles(), o);
/** B with another restart command: no file changes, only the state's record of the service. */
const E: Build = (n, o) =>
  nodeScript(
    n,
    registries({ mirror: "alt", password: `${CANARY}-b` }),
    profiles().map((p) => (p.kind === "containerd" ? { ...p, restart: ["/bin/true"] } : p)),
    o,
  );

interface Scenario {
  name: string;
  /** Runs that bring the node from pristine to the scenario's start. */
  before: Build[];
  /** The interrupted run. */
  mode: "apply" | "destroy";
  script: Build;
  /** Whether the scenario's end state holds the credential. */
  credential: boolean;
}

const SCENARIOS: Scenario[] = [
  { name: "first apply", before: [], mode: "apply", script: A, credential: true },
  { name: "update", before: [A], mode: "apply", script: B, credential: true },
  { name: "dropped file", before: [A, B], mode: "apply", script: C, credential: true },
  { name: "removed credential", before: [A, B], mode: "apply", script: D, credential: false },
  { name: "destroy", before: [A, B], mode: "destroy", script: B, credential: false },
  { name: "service command only", before: [A, B], mode: "apply", script: E, credential: true },
];

interface Outcome {
  /** Killed at the label (else: the run never passes it in this scenario). */
  reached: boolean;
  converged: boolean;
  byteExact: boolean;
  canaryClean: boolean;
  detail?: string;
}

const rows: { scenario: string; label: string; outcome: Outcome }[] = [];

/** Saved starts of the scenarios (per node): a tar of what the runs before the scenario's left, and its snapshot. */
const saved = new Map<string, string>();
const SAVED_PATHS =
  "etc/containerd etc/docker/daemon.json etc/docker/daemon.real.json etc/docker/certs.d var/lib/kubelet var/lib/pulumi-registries run/pulumi-registries";

/** The node at the start of scenario `s`: the runs before it once, then restored from a tar of their result. */
async function prepare(n: RigNode, s: Scenario): Promise<void> {
  // Beside the rig, not in the node's /etc, /var or /run: they hold the canary, which must be nowhere there.
  const tar = `${rig.dir}/prr-start/${n.id}-${SCENARIOS.indexOf(s)}.tar`;
  const start = saved.get(tar);
  if (start !== undefined) {
    await resetNode(n, `rm -f /etc/containerd/config.toml && tar -C / -xpf ${tar}`);
    // The restored start must be the real one, byte for byte (else the trial would test something else).
    const restored = await snapshot(n);
    if (restored !== start)
      throw new Error(`${n.name}: the saved start of "${s.name}" did not restore exactly`);
    return;
  }
  await pristine(n);
  for (const before of s.before) await runOk(n, "apply", before(n));
  fs.mkdirSync(path.dirname(tar), { recursive: true });
  await nodeSh(
    n,
    `cd / && set -- && for p in ${SAVED_PATHS}; do [ ! -e "$p" ] && [ ! -L "$p" ] || set -- "$@" "$p"; done && tar -cpf ${tar} "$@"`,
  );
  saved.set(tar, await snapshot(n));
}

/** Where a credential is on the node, apart from the places allowed to hold it. */
async function strayCredentials(n: RigNode, allowed: string[]): Promise<string[]> {
  return (await filesContaining(n, CANARY)).filter((f) => !allowed.includes(f));
}

/** One trial: prepare, crash at `label` (optionally crash the recovery too), recover, destroy, compare. */
async function trial(
  n: RigNode,
  s: Scenario,
  label: string,
  reference: { converged: string; pristine: string },
  recoveryCrash?: string,
): Promise<Outcome> {
  await prepare(n, s);
  const script = s.script(n);
  // Only labels the uninterrupted run passes get a trial: not being killed there is a failure of the harness.
  const crashed = await runScript(n, s.mode, crashVariant(script, label));
  if (crashed.signal !== "SIGKILL")
    return fail(`not killed at ${label} (exit ${crashed.code}): ${crashed.stderr}`);
  if (recoveryCrash) {
    const again = await runScript(n, s.mode, crashVariant(script, recoveryCrash));
    if (again.signal !== "SIGKILL")
      return fail(`the recovery was not killed at ${recoveryCrash} (exit ${again.code}): ${again.stderr}`);
  }
  // The next run of the same operation converges on what an uninterrupted run leaves.
  const next = await runScript(n, s.mode, script);
  if (next.code !== 0) return fail(`the next ${s.mode} exited ${next.code}: ${next.stderr}`);
  const converged = (await snapshot(n)) === reference.converged;
  const strayNow = await strayCredentials(n, s.credential ? CREDENTIAL_TARGETS : []);
  if (s.mode === "apply") {
    const destroyed = await runScript(n, "destroy", script);
    if (destroyed.code !== 0) return fail(`destroy exited ${destroyed.code}: ${destroyed.stderr}`);
  }
  const byteExact = (await snapshot(n)) === reference.pristine;
  const strayAfter = await strayCredentials(n, []);
  const canaryClean = strayNow.length === 0 && strayAfter.length === 0;
  return {
    reached: true,
    converged,
    byteExact,
    canaryClean,
    ...(canaryClean ? {} : { detail: `credential in ${[...strayNow, ...strayAfter].join(", ")}` }),
  };

  function fail(detail: string): Outcome {
    return { reached: true, converged: false, byteExact: false, canaryClean: false, detail };
  }
}

/** Run tasks on the three nodes at once, each node one task at a time. */
async function onNodes<T>(tasks: ((n: RigNode) => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    rig.nodes.map(async (n) => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await tasks[i](n);
      }
    }),
  );
  return results;
}

function table(): string {
  const mark = (o: Outcome) =>
    !o.reached ? "not reached" : o.converged && o.byteExact && o.canaryClean ? "ok" : "FAILED";
  const lines = rows.map(
    (r) =>
      `| ${r.scenario} | ${r.label} | ${r.outcome.reached ? "yes" : "no"} | ${r.outcome.reached ? (r.outcome.converged ? "yes" : "NO") : "-"} | ${r.outcome.reached ? (r.outcome.byteExact ? "yes" : "NO") : "-"} | ${r.outcome.reached ? (r.outcome.canaryClean ? "yes" : "NO") : "-"} | ${mark(r.outcome)}${r.outcome.detail ? ` (${r.outcome.detail.slice(0, 200)})` : ""} |`,
  );
  return [
    "| scenario | crash at | reached | converged | byte-exact after destroy | no stray credential | result |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...lines,
  ].join("\n");
}

// Each node's own stock config.toml, read before anything changes it.
rig.nodes.forEach(stockConfig);

describe("crash-point harness", () => {
  const references = new Map<string, { converged: string; pristine: string }>();
  const reached = new Map<string, Set<string>>();
  let labels: string[] = [];

  beforeAll(async () => {
    labels = crashLabels(A(rig.nodes[0]));
    // References: what an uninterrupted run leaves, per node (the state records the node's name), and which
    // labels each scenario's run passes (a trial at a label it never passes would only repeat the reference).
    await Promise.all(
      rig.nodes.map(async (n) => {
        await pristine(n);
        const before = await snapshot(n);
        for (const s of SCENARIOS) {
          await prepare(n, s);
          await runOk(n, s.mode, labelVariant(s.script(n), "/run/prr-labels"));
          const passed = await nodeSh(n, "cat /run/prr-labels; rm -f /run/prr-labels");
          const set = reached.get(s.name) ?? new Set<string>();
          passed.split("\n").forEach((l) => l && set.add(l));
          reached.set(s.name, set);
          const converged = await snapshot(n);
          if (s.mode === "apply") await runOk(n, "destroy", s.script(n));
          expect(await snapshot(n)).toBe(before);
          references.set(`${n.id}/${s.name}`, { converged, pristine: before });
        }
      }),
    );
  }, 300_000);

  afterAll(async () => {
    if (rows.length) console.log(`crash-point harness: ${labels.length} labelled steps\n\n${table()}\n`);
    await Promise.all(rig.nodes.map((n) => pristine(n).then(() => nodeSh(n, removeFixture))));
    fs.rmSync(`${rig.dir}/prr-start`, { recursive: true, force: true });
  }, 120_000);

  test("every labelled step, every scenario: killed there, the node converges and gives everything back", async () => {
    expect(labels.length).toBeGreaterThanOrEqual(15);
    const tasks: ((n: RigNode) => Promise<void>)[] = [];
    for (const s of SCENARIOS) {
      for (const label of labels) {
        if (!reached.get(s.name)!.has(label)) {
          rows.push({
            scenario: s.name,
            label,
            outcome: { reached: false, converged: true, byteExact: true, canaryClean: true },
          });
          continue;
        }
        tasks.push(async (n) => {
          const outcome = await trial(n, s, label, references.get(`${n.id}/${s.name}`)!);
          rows.push({ scenario: s.name, label, outcome });
        });
      }
      // A crash during the recovery of a crash: the rollback itself is interrupted, then finished.
      for (const label of labels.filter((l) => l.startsWith("rollback."))) {
        if (!reached.get(s.name)!.has("commit.switched-all")) continue; // nothing to roll back
        tasks.push(async (n) => {
          const outcome = await trial(
            n,
            s,
            "commit.switched-all",
            references.get(`${n.id}/${s.name}`)!,
            label,
          );
          rows.push({ scenario: `${s.name}, then again in the recovery`, label, outcome });
        });
      }
    }
    await onNodes(tasks);
    const bad = rows.filter(
      (r) => r.outcome.reached && !(r.outcome.converged && r.outcome.byteExact && r.outcome.canaryClean),
    );
    expect(bad.map((r) => `${r.scenario} @ ${r.label}: ${r.outcome.detail ?? ""}`)).toEqual([]);
    // Every label is reached by at least one scenario.
    const killedAt = new Set(rows.filter((r) => r.outcome.reached).map((r) => r.label));
    expect(labels.filter((l) => !killedAt.has(l))).toEqual([]);
  }, 900_000);
});

interface FaultRow {
  fault: string;
  run: string;
  /** What the faulty run did: "failed, node unchanged", "succeeded", or a failure. */
  during: string;
  converged: boolean;
  byteExact: boolean;
}
const faultRows: FaultRow[] = [];

/**
 * Fault trials: the node at the start of `s` (with the layout set up), then each fault in turn while the
 * scenario's run goes (it must either fail and leave the node exactly as it was, or succeed), then `clear`, the
 * run again (it must converge on the reference of this layout), a destroy (the node must be as before the first
 * apply, with no stray credential). The reference is taken once per layout and scenario.
 */
async function faultTrials(
  n: RigNode,
  s: Scenario,
  layout: Layout,
  faults: { fault: string; inject: string }[],
  clear: string,
): Promise<FaultRow[]> {
  const rows: FaultRow[] = [];
  const o = layout.options;
  try {
    await pristine(n);
    await nodeSh(n, layout.setup);
    const pristineSnap = await snapshot(n);
    for (const before of s.before) await runOk(n, "apply", before(n, o));
    await runOk(n, s.mode, s.script(n, o));
    const reference = await snapshot(n);
    if (s.mode === "apply") await runOk(n, "destroy", s.script(n, o));
    for (const { fault, inject } of faults) {
      const row: FaultRow = { fault, run: s.name, during: "", converged: false, byteExact: false };
      rows.push(row);
      faultRows.push(row);
      try {
        for (const before of s.before) await runOk(n, "apply", before(n, o));
        await nodeSh(n, inject);
        const before = await snapshot(n);
        const faulty = await runScript(n, s.mode, s.script(n, o));
        if (faulty.code === 0) row.during = "succeeded";
        else {
          const same = (await snapshot(n)) === before;
          row.during = same
            ? `failed (exit ${faulty.code}), node unchanged`
            : `FAILED (exit ${faulty.code}), node changed`;
        }
        await nodeSh(n, clear);
        await runOk(n, s.mode, s.script(n, o));
        row.converged = (await snapshot(n)) === reference;
        if (s.mode === "apply") await runOk(n, "destroy", s.script(n, o));
        row.byteExact = (await snapshot(n)) === pristineSnap;
        row.byteExact &&= (await strayCredentials(n, [])).length === 0;
      } catch (e) {
        row.during = `ERROR ${(e as Error).message.slice(0, 300)}`;
        await nodeSh(n, clear).catch(() => undefined);
      }
    }
  } catch (e) {
    const row: FaultRow = {
      fault: faults.map((f) => f.fault).join(", "),
      run: s.name,
      during: `ERROR ${(e as Error).message.slice(0, 300)}`,
      converged: false,
      byteExact: false,
    };
    rows.push(row);
    faultRows.push(row);
  } finally {
    await nodeSh(n, `${clear}; ${layout.teardown}`).catch(() => undefined);
  }
  return rows;
}

function faultTable(): string {
  return [
    "| fault | run | during the fault | converged after | byte-exact after destroy |",
    "| --- | --- | --- | --- | --- |",
    ...faultRows.map(
      (r) =>
        `| ${r.fault} | ${r.run} | ${r.during} | ${r.converged ? "yes" : "NO"} | ${r.byteExact ? "yes" : "NO"} |`,
    ),
  ].join("\n");
}

/** What a fault trial adds to the pristine node, and the script options that go with it. */
interface Layout {
  setup: string;
  teardown: string;
  options?: ScriptOptions;
}
const NO_LAYOUT: Layout = { setup: "true", teardown: "true" };
/** A small tmpfs (in the node's private mount namespace) on `dir` of `kib` KiB. */
function smallTmpfs(dir: string, kib = 64, options?: ScriptOptions): Layout {
  return {
    setup: `mkdir -p ${dir} && mount -t tmpfs -o size=${kib}k,mode=755 prr-full ${dir}`,
    teardown: `umount ${dir} 2>/dev/null; rmdir ${dir} 2>/dev/null; true`,
    options,
  };
}
/** Fill the small tmpfs on `dir` so that `pages` 4 KiB pages stay free. */
const fill = (dir: string, pages: number, kib = 64) =>
  `dd if=/dev/zero of=${dir}/.filler bs=4096 count=${kib / 4 - pages} 2>/dev/null || true`;

describe("faults: disk full at each write, immutable and read-only targets", () => {
  afterAll(async () => {
    if (faultRows.length) console.log(`fault drills\n\n${faultTable()}\n`);
    await Promise.all(rig.nodes.map((n) => pristine(n).then(() => nodeSh(n, removeFixture))));
  }, 120_000);

  test("ENOSPC at each write: targets, state and work directory on a full tmpfs", async () => {
    const tasks: ((n: RigNode) => Promise<FaultRow[]>)[] = [];
    // The work directory needs 1 MiB free or the run stops before it decodes anything: a 2 MiB tmpfs there.
    // The state root lives one level down in its tmpfs: the filler must not sit in the root itself (a root that
    // holds anything but the lock keeps its lock file, and the comparison would see that).
    // Pages left free: the targets and the state take a few pages per run; the work directory refuses to start
    // below 1 MiB free (one case shows it).
    const places: [string, string, number, number[], ScriptOptions?][] = [
      ["targets (certs.d)", "/etc/containerd/certs.d", 64, [0, 1, 2, 3]],
      ["state root", "/var/lib/prr-full", 64, [0, 1, 2, 3, 4], { stateRoot: "/var/lib/prr-full/state" }],
      ["work directory (/run)", "/run/pulumi-registries", 2048, [4]],
    ];
    for (const [where, dir, kib, free, options] of places) {
      for (const s of [SCENARIOS[0], SCENARIOS[1], SCENARIOS[4]]) {
        // A destroy only removes files from the targets: one case there.
        const pages = s.mode === "destroy" && where.startsWith("targets") ? [0] : free;
        tasks.push((n) =>
          faultTrials(
            n,
            s,
            smallTmpfs(dir, kib, options),
            pages.map((p) => ({ fault: `ENOSPC in ${where}, ${p} pages free`, inject: fill(dir, p, kib) })),
            `rm -f ${dir}/.filler`,
          ),
        );
      }
    }
    const rows = (await onNodes(tasks)).flat();
    expect(
      rows.filter(
        (r) => !(r.during.startsWith("failed") || r.during === "succeeded") || !r.converged || !r.byteExact,
      ),
    ).toEqual([]);
    // The fault hit writes in the middle of a switch, not only before it.
    expect(rows.filter((r) => r.during.startsWith("failed")).length).toBeGreaterThan(3);
  }, 900_000);

  test("an immutable target (chattr +i) and a read-only one: refused whole, then converged", async () => {
    const probe = await nodeExec(rig.nodes[0], [
      "sh",
      "-c",
      "touch /etc/containerd/.prr-chattr && chattr +i /etc/containerd/.prr-chattr; r=$?; chattr -i /etc/containerd/.prr-chattr 2>/dev/null; rm -f /etc/containerd/.prr-chattr; exit $r",
    ]);
    const immutable = probe.code === 0;
    const tasks: ((n: RigNode) => Promise<FaultRow[]>)[] = [];
    const faults = [
      ...(immutable
        ? [
            { fault: "immutable config.toml", inject: "chattr +i /etc/containerd/config.toml" },
            {
              fault: "immutable /var/lib/kubelet/config.json",
              inject: "chattr +i /var/lib/kubelet/config.json",
            },
          ]
        : []),
      {
        fault: "read-only /var/lib/kubelet (switched after /etc)",
        inject: "mount --bind /var/lib/kubelet /var/lib/kubelet && mount -o remount,ro,bind /var/lib/kubelet",
      },
    ];
    const clear =
      "chattr -i /etc/containerd/config.toml /var/lib/kubelet/config.json 2>/dev/null; umount /var/lib/kubelet 2>/dev/null; true";
    for (const s of [SCENARIOS[1], SCENARIOS[3], SCENARIOS[4]]) {
      tasks.push((n) => faultTrials(n, s, NO_LAYOUT, faults, clear));
    }
    const rows = (await onNodes(tasks)).flat();
    if (!immutable)
      console.log(`chattr +i is not supported on the rig's overlay /etc: ${probe.stderr.trim()}`);
    expect(rows.filter((r) => !r.during.startsWith("failed") || !r.converged || !r.byteExact)).toEqual([]);
  }, 600_000);
});

const removeFixture =
  "rm -f /etc/docker/daemon.json /etc/docker/daemon.real.json; rmdir /etc/docker 2>/dev/null; true";
