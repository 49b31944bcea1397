/**
 * Fault drills on real nodes: every failure leaves each node either exactly as it was, or converged on the next
 * run. The scripts are the ones the components declare (planNode + buildNodeScript), run over real OpenSSH.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import {
  buildNodeScript,
  nodeCommand,
  parseSummary,
  planNode,
  RuntimeProfile,
  ScriptOptions,
} from "../../components/node";
import { normalizeRegistries, RegistriesArgs } from "../../components/render";
import { SimulatedCommand } from "../helpers/commandHarness";
import { loadRig, nodeExec, nodeFile, Rig, RigNode, sshRun } from "../helpers/rig";

const rig: Rig = loadRig();
const [n1, n2, n3] = rig.nodes;
const PLAIN = rig.registries.plain.host;
const RESTART = [rig.scripts.nodeContainerd, "restart"];

const regs = (mirror: string): RegistriesArgs => ({
  "docker.io": {
    server: rig.deadServer,
    mirrors: [mirror.includes("/v2/") ? { endpoint: mirror, overridePath: true } : { endpoint: mirror }],
  },
  [rig.registries.tls.host]: {
    tls: { ca: rig.tls.caPem },
    auth: { username: rig.auth.user, password: rig.auth.password },
  },
});

function script(
  n: RigNode,
  r: RegistriesArgs,
  profiles: RuntimeProfile[],
  opts: ScriptOptions & { probeMirrors?: boolean } = {},
) {
  const { probeMirrors, ...scriptOptions } = opts;
  const plan = planNode(normalizeRegistries(r), { node: n.name, owner: "drills", profiles, probeMirrors });
  return buildNodeScript(plan, scriptOptions);
}

/** Everything a node holds under the paths the drills touch, as text: what "as it was" means. */
async function snapshot(n: RigNode): Promise<string> {
  const r = await nodeExec(n, [
    "sh",
    "-c",
    "for d in /etc/containerd /var/lib/kubelet /var/lib/pulumi-registries; do [ -e $d ] && find $d -print0 | sort -z | xargs -0 sha256sum 2>/dev/null; find $d -printf '%p %m\\n' 2>/dev/null | sort; done; true",
  ]);
  return r.stdout;
}

const apply = (n: RigNode, s: string) => sshRun(n, nodeCommand("apply"), s, { timeoutMs: 60_000 });
const destroy = (n: RigNode, s: string) => sshRun(n, nodeCommand("destroy"), s, { timeoutMs: 60_000 });
const pid = (n: RigNode) => fs.readFileSync(n.containerdPidFile, "utf8").trim();

describe("fault drills", () => {
  const cleanups: [RigNode, string][] = [];
  afterAll(async () => {
    for (const [n, s] of cleanups) await destroy(n, s);
  });

  test("a failing restart puts every file back and brings the service back on them", async () => {
    const profiles = (restart: string[]): RuntimeProfile[] => [
      { kind: "containerd", restart },
      { kind: "kubelet" },
    ];
    const good = script(n1, regs(`http://${PLAIN}`), profiles(RESTART));
    cleanups.push([n1, good]);
    expect((await apply(n1, good)).code).toBe(0);
    const before = await snapshot(n1);
    const pidBefore = pid(n1);
    // The service restarts, then reports failure (a service that does not come up healthy).
    const failing = ["sh", "-c", `${RESTART.join(" ")} && echo 'unit failed health check' >&2 && exit 1`];
    // A hosts.toml change alone restarts nothing: change the credentials, which live in config.toml.
    const changed: RegistriesArgs = {
      ...regs(`http://${PLAIN}`),
      [rig.registries.tls.host]: {
        tls: { ca: rig.tls.caPem },
        auth: { username: rig.auth.user, password: `${rig.auth.password}-new` },
      },
    };
    const failed = await apply(n1, script(n1, changed, profiles(failing)));
    expect(failed.code).toBe(5);
    expect(parseSummary(failed.stdout)).toMatchObject({ rolledBack: true });
    expect(failed.stderr).toContain("a service action failed; restoring the previous files");
    expect(failed.stderr + failed.stdout).not.toContain(rig.auth.password);
    expect(await snapshot(n1)).toBe(before);
    expect(pid(n1)).not.toBe(pidBefore); // restarted again, on the restored files
    expect(nodeFile(n1, "/etc/containerd/config.toml")).not.toContain("-new");
  });

  test("an unwritable target: the files already switched are put back", async () => {
    const profiles: RuntimeProfile[] = [
      { kind: "containerd", restart: RESTART, credentials: "hosts" },
      { kind: "kubelet" },
    ];
    await nodeExec(n2, ["mkdir", "-p", "/var/lib/kubelet"]);
    const before = await snapshot(n2);
    // /var/lib/kubelet sorts after /etc/containerd: the hosts.toml files are written first, then this fails.
    await nodeExec(n2, [
      "sh",
      "-c",
      "mount --bind /var/lib/kubelet /var/lib/kubelet && mount -o remount,ro,bind /var/lib/kubelet",
    ]);
    const s = script(n2, regs(`http://${PLAIN}`), profiles);
    cleanups.push([n2, s]);
    try {
      const r = await apply(n2, s);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain("interrupted during the switch: rolling back");
      expect(parseSummary(r.stdout)).toBeUndefined();
    } finally {
      await nodeExec(n2, ["umount", "/var/lib/kubelet"]);
    }
    expect(await snapshot(n2)).toBe(before);
    // Once the target is writable again, the next run converges.
    const again = await apply(n2, s);
    expect(again.code).toBe(0);
    expect(parseSummary(again.stdout)!.changed).toContain("/var/lib/kubelet/config.json");
  });

  test("a node unreachable at the start, then back: the next run converges", async () => {
    const sim = new SimulatedCommand("drill-n3");
    const declared = {
      name: "drill-n3",
      connection: { host: n3.ip, port: n3.port, user: "root", hostKey: n3.hostKey },
      create: nodeCommand("apply"),
      update: nodeCommand("apply"),
      delete: nodeCommand("destroy"),
      stdin: script(n3, regs(`http://${PLAIN}`), [
        { kind: "containerd", restart: RESTART, credentials: "hosts", manageConfigPath: false },
      ]),
      stdinSecret: true,
      triggers: [],
      dependsOn: [],
    };
    const before = await snapshot(n3);
    await nodeExec(n3, ["ip", "link", "set", "eth0", "down"]);
    let first;
    try {
      first = await sim.up(declared);
    } finally {
      await nodeExec(n3, ["ip", "link", "set", "eth0", "up"]);
    }
    expect(first).toMatchObject({ code: 255 });
    expect(sim.state).toBeUndefined(); // a failed create stores nothing: the next up creates again
    expect(await snapshot(n3)).toBe(before);
    const second = await sim.up(declared);
    expect(second).toMatchObject({ code: 0 });
    cleanups.push([n3, declared.stdin]);
  });

  test("the SSH connection dies mid-apply: the node finishes or rolls back, and the next run converges", async () => {
    const slow = ["sh", "-c", `sleep 2 && ${RESTART.join(" ")}`];
    const profiles: RuntimeProfile[] = [{ kind: "containerd", restart: slow }];
    const s = script(n3, regs(`http://${PLAIN}/v2/alt`), profiles);
    // Start the apply with a plain ssh client, and kill that client while the node is restarting.
    const child = spawn(
      "ip",
      [
        "netns",
        "exec",
        rig.netns.registry,
        "ssh",
        "-F",
        rig.ssh.config,
        `root@${n3.ip}`,
        nodeCommand("apply"),
      ],
      {
        stdio: ["pipe", "ignore", "ignore"],
      },
    );
    child.stdin.end(s);
    await new Promise((r) => setTimeout(r, 1000));
    child.kill("SIGKILL");
    await new Promise((r) => child.on("close", r));
    // Whatever the node did, an apply of the same script now converges and the node is consistent.
    await new Promise((r) => setTimeout(r, 3000));
    const again = await apply(n3, s);
    expect(again.code).toBe(0);
    const check = await sshRun(n3, nodeCommand("check"), s);
    expect(parseSummary(check.stdout)).toMatchObject({ drift: [], changed: [], removed: [] });
    cleanups.push([n3, s]);
  });

  test("two applies at once on one node are serialised by the lock", async () => {
    // Both change the CRI block in config.toml (different passwords), so both restart; the restart logs
    // start and end around a pause. Without the lock the two would interleave.
    const log = "/run/drill-lock.log";
    const restart = ["sh", "-c", `echo start >> ${log}; sleep 1; echo end >> ${log}`];
    const profiles: RuntimeProfile[] = [{ kind: "containerd", restart, manageConfigPath: false }];
    const withPassword = (password: string): RegistriesArgs => ({
      ...regs(`http://${PLAIN}`),
      [rig.registries.tls.host]: { tls: { ca: rig.tls.caPem }, auth: { username: rig.auth.user, password } },
    });
    const a = script(n1, withPassword(`${rig.auth.password}-a`), profiles);
    const b = script(n1, withPassword(`${rig.auth.password}-b`), profiles);
    await nodeExec(n1, ["rm", "-f", log]);
    const [ra, rb] = await Promise.all([apply(n1, a), apply(n1, b)]);
    expect([ra.code, rb.code]).toEqual([0, 0]);
    expect(nodeFile(n1, log)).toBe("start\nend\nstart\nend\n");
    // Whichever ran last owns the node now, whole: its check finds nothing to change and no drift.
    const checks = await Promise.all([a, b].map((s) => sshRun(n1, nodeCommand("check"), s)));
    const summaries = checks.map((c) => parseSummary(c.stdout)!);
    expect(summaries.some((c) => c.drift.length === 0)).toBe(true);
    cleanups.push([n1, a]);
  });

  test("a mirror that does not answer the probe: nothing is changed", async () => {
    const before = await snapshot(n2);
    const dead = script(n2, regs("http://10.123.0.1:5999"), [{ kind: "containerd", restart: RESTART }], {
      probeMirrors: true,
    });
    const r = await apply(n2, dead);
    expect(r.code).toBe(69);
    expect(r.stderr).toContain("mirror http://10.123.0.1:5999 did not answer GET /v2/ from this node");
    expect(await snapshot(n2)).toBe(before);
    const live = script(n2, regs(`http://${PLAIN}`), [{ kind: "containerd", restart: RESTART }], {
      probeMirrors: true,
    });
    const ok = await apply(n2, live);
    expect(ok.code).toBe(0);
    expect(parseSummary(ok.stdout)!.probed).toEqual([`http://${PLAIN}`]);
    cleanups.push([n2, live]);
  });
});
