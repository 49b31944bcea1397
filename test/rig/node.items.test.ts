/**
 * Issue 8, item by item, on real nodes: each test reproduces one defect of the format-1 node script and shows
 * that the node now stays whole. Every test fails with the format-1 library (build the scripts with it through
 * PRR_SCRIPT_LIB, see test/helpers/nodeScript.ts) and passes with this one.
 *
 * Scripts run inside the nodes with nsenter (the transport does not matter for these defects); restart commands
 * are `true` unless a test is about the service.
 */
import * as fs from "fs";
import { RuntimeProfile as ProfileArgs, ScriptOptions } from "../../components/node";
import { RegistriesArgs } from "../../components/render";
import { loadRig, nodeFile, nodeStat, Rig, RigNode } from "../helpers/rig";
import {
  filesContaining,
  nodePlan,
  nodeScript,
  nodeSh,
  planScript,
  resetNode,
  runOk,
  runScript,
  snapshot,
  stockConfig,
} from "../helpers/nodeScript";
import { nodeExec } from "../helpers/rig";
import { parseSummary } from "../../components/node";
import { normalizeRegistries } from "../../components/render";
import { renderCriRegistryBlock } from "../../components/render/criRegistry";

const rig: Rig = loadRig();
const [n1, n2, n3] = rig.nodes;
const CANARY = rig.auth.password;
const TLS = rig.registries.tls.host;
const PLAIN = rig.registries.plain.host;
// Each node's own stock config.toml (it names the node's containerd root, state and socket).
const STOCK = (n: RigNode) => stockConfig(n);
rig.nodes.forEach(stockConfig);
const ROOT = "/var/lib/pulumi-registries";

function regs(o: { password?: string; mirror?: string; dockerIo?: boolean } = {}): RegistriesArgs {
  return {
    ...(o.dockerIo === false
      ? {}
      : {
          "docker.io": {
            server: rig.deadServer,
            // mirror "": the registry's root (the only kind of mirror Docker's daemon.json can take).
            mirrors: [
              o.mirror === ""
                ? { endpoint: `http://${PLAIN}` }
                : { endpoint: `http://${PLAIN}/v2/${o.mirror ?? "ns"}`, overridePath: true as const },
            ],
          },
        }),
    [TLS]: {
      tls: { ca: rig.tls.caPem },
      ...(o.password ? { auth: { username: rig.auth.user, password: o.password } } : {}),
    },
  };
}

const containerd = (o: Partial<ProfileArgs> = {}): ProfileArgs =>
  ({
    kind: "containerd",
    credentials: "cri",
    restart: ["true"],
    containerdBinary: "/nonexistent/containerd",
    ...o,
  }) as ProfileArgs;

/** A declaration with a credential in config.toml and kubelet's config.json. */
const withCredential = (n: RigNode, o: ScriptOptions & { owner?: string; node?: RigNode } = {}) =>
  nodeScript(o.node ?? n, regs({ password: CANARY }), [containerd(), { kind: "kubelet" }], o);

/** Run in a private copy of the node's mount namespace with some commands replaced (files in /run/prr-shim). */
function shimmed(n: RigNode, mode: "apply" | "destroy", script: string, shims: Record<string, string>) {
  const files = Object.entries(shims)
    .map(
      ([name, body]) =>
        `printf '%s' '${body.replace(/'/g, `'\\''`)}' > /run/prr-shim/${name}; chmod +x /run/prr-shim/${name}`,
    )
    .join("\n");
  return nodeExec(
    n,
    [
      "sh",
      "-c",
      `mkdir -p /run/prr-shim && ${files}
      exec unshare -m sh -c 'mount --bind /run/prr-shim /usr/local/bin && exec sh -s -- ${mode}'`,
    ],
    { stdin: script, timeoutMs: 60_000 },
  );
}

beforeEach(async () => {
  await Promise.all(rig.nodes.map((n) => resetNode(n)));
});
afterAll(async () => {
  await Promise.all(rig.nodes.map((n) => resetNode(n).then(() => nodeSh(n, "rm -rf /run/prr-shim"))));
});

describe("issue 8", () => {
  test("item 1: a run that fails before it changes anything (lock timeout, signal, no mktemp) never deletes the state", async () => {
    const pristine = await snapshot(n1);
    const script = withCredential(n1);
    await runOk(n1, "apply", script);
    const applied = await snapshot(n1);
    // Another run holds the lock (a slow restart), so lockWaitSeconds: 0 gives up at once.
    const holder = nodeScript(n1, regs({ password: `${CANARY}-h` }), [
      containerd({ restart: ["sleep", "3"] }),
    ]);
    const busy = withCredential(n1, { lockWaitSeconds: 0 });
    const holding = runScript(n1, "apply", holder);
    await new Promise((r) => setTimeout(r, 1000));
    const timedOut = await runScript(n1, "apply", busy);
    expect(timedOut.code).toBe(75);
    // A signal while waiting for the lock.
    const waiting = withCredential(n1, { lockWaitSeconds: 60 });
    const signalled = await nodeExec(n1, ["timeout", "-s", "TERM", "1", "sh", "-s", "--", "apply"], {
      stdin: waiting,
    });
    expect(signalled.code).toBe(124);
    expect((await holding).code).toBe(0);
    await runOk(n1, "apply", script); // back to the first declaration
    expect(await snapshot(n1)).toBe(applied);
    // mktemp missing on the node.
    await shimmed(n1, "apply", script, { mktemp: "#!/bin/sh\nexit 127\n" });
    expect(await snapshot(n1)).toBe(applied);
    // The state is whole: destroy gives everything back.
    await runOk(n1, "destroy", script);
    expect(await snapshot(n1)).toBe(pristine);
  });

  test("item 2: a managed file deleted by hand does not break destroy (or an apply that drops it)", async () => {
    const pristine = await snapshot(n2);
    const script = withCredential(n2);
    await runOk(n2, "apply", script);
    await nodeSh(n2, "rm /var/lib/kubelet/config.json /etc/containerd/certs.d/docker.io/hosts.toml");
    const dropped = nodeScript(n2, regs({ password: CANARY, dockerIo: false }), [containerd()]);
    await runOk(n2, "apply", dropped);
    await runOk(n2, "destroy", dropped);
    expect(await snapshot(n2)).toBe(pristine);
    expect(await filesContaining(n2, CANARY)).toEqual([]);
  });

  test("item 3: SIGKILL at the manifest switch after a successful restart loses no original file", async () => {
    const pristine = await snapshot(n3);
    await nodeSh(
      n3,
      `mkdir -p /etc/docker && printf '{"log-driver": "journald"}\\n' > /etc/docker/daemon.json`,
    );
    const withDocker = nodeScript(
      n3,
      regs({ password: CANARY }),
      [containerd(), { kind: "docker", reload: ["true"] }],
      { noChecks: true },
    );
    const withoutDocker = nodeScript(n3, regs({ password: CANARY }), [
      containerd({ restart: ["sh", "-c", "true"] }),
    ]);
    await runOk(n3, "apply", withDocker);
    // The run that gives daemon.json back (its original from the backup) is killed as it switches the manifest.
    await nodeSh(n3, ": > /run/prr-kill-once");
    const killed = await shimmed(n3, "apply", withoutDocker, {
      mv: '#!/bin/sh\nfor a; do last=$a; done\ncase "$last" in */manifest) if [ -e /run/prr-kill-once ]; then rm -f /run/prr-kill-once; kill -9 $PPID; exit 1; fi ;; esac\nexec /usr/bin/mv "$@"\n',
    });
    expect(killed.signal ?? killed.code).not.toBe(0);
    await runOk(n3, "apply", withoutDocker);
    expect(nodeFile(n3, "/etc/docker/daemon.json")).toBe('{"log-driver": "journald"}\n');
    await runOk(n3, "destroy", withoutDocker);
    await nodeSh(n3, "rm /etc/docker/daemon.json");
    expect(await snapshot(n3)).toBe(pristine);
  });

  test("item 4: a leftover lock whose PID lives on (PID reuse) blocks nothing; a holder in another PID namespace does", async () => {
    const script = withCredential(n1, { lockWaitSeconds: 2 });
    // The format-1 lock: a directory with a PID that is alive but holds nothing (here: the node's sshd).
    const sshd = fs.readFileSync(n1.sshdPidFile, "utf8").trim();
    await nodeSh(n1, `mkdir -p ${ROOT}/.lock && echo ${sshd} > ${ROOT}/.lock/pid`);
    // (lockWaitSeconds is 2: a run that had to wait for it would exit 75.)
    await runOk(n1, "apply", script);
    await nodeSh(n1, `rm -rf ${ROOT}/.lock`);
    // A run killed with SIGKILL while it holds the lock leaves nothing that blocks the next one.
    const killer = nodeScript(n1, regs({ password: `${CANARY}-k` }), [
      containerd({ restart: ["sh", "-c", "kill -9 $PPID"] }),
      { kind: "kubelet" },
    ]);
    const killed = await runScript(n1, "apply", killer);
    expect(killed.signal).toBe("SIGKILL");
    await runOk(n1, "apply", script);
    // A holder in another PID namespace (as a DaemonSet pod would be) is waited for.
    const holder = nodeExec(n1, [
      "unshare",
      "--pid",
      "--fork",
      "--mount-proc",
      "flock",
      `${ROOT}/.flock`,
      "sleep",
      "4",
    ]);
    await new Promise((r) => setTimeout(r, 700));
    const blocked = await runScript(n1, "apply", script);
    expect(blocked.code).toBe(75);
    await holder;
    await runOk(n1, "apply", script);
    // Three runs started together never overlap: their restarts log start and end around a pause.
    const log = "/run/prr-lock.log";
    await nodeSh(n1, `rm -f ${log}`);
    const slow = (p: string) =>
      nodeScript(
        n1,
        regs({ password: `${CANARY}-${p}` }),
        [containerd({ restart: ["sh", "-c", `echo start >> ${log}; sleep 0.5; echo end >> ${log}`] })],
        { lockWaitSeconds: 30 },
      );
    const runs = await Promise.all(["x", "y", "z"].map((p) => runScript(n1, "apply", slow(p))));
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0]);
    expect(nodeFile(n1, log)).toBe("start\nend\n".repeat(3));
    await runOk(n1, "destroy", slow("z"));
  }, 90_000);

  test("item 5: registry mirrors set with dotted keys under the CRI table are refused before containerd sees them", async () => {
    const dotted = STOCK(n1)
      .replace(
        '[plugins."io.containerd.grpc.v1.cri"]\n',
        '[plugins."io.containerd.grpc.v1.cri"]\n    registry.mirrors."quay.io".endpoint = ["https://quay.example"]\n',
      )
      .replace(/\n {4}\[plugins\."io\.containerd\.grpc\.v1\.cri"\.registry\]\n {6}config_path = ""\n/, "\n");
    expect(dotted).toContain("registry.mirrors");
    await nodeSh(n1, "cat > /etc/containerd/config.toml", dotted);
    const before = await snapshot(n1);
    const pid = fs.readFileSync(n1.containerdPidFile, "utf8").trim();
    const script = nodeScript(n1, regs({ password: CANARY }), [
      containerd({ restart: [rig.scripts.nodeContainerd, "restart"], containerdBinary: "containerd" }),
    ]);
    const r = await runScript(n1, "apply", script);
    expect(r.code).toBe(65);
    expect(r.stderr).toContain("with dotted keys or an inline table");
    expect(await snapshot(n1)).toBe(before);
    expect(fs.readFileSync(n1.containerdPidFile, "utf8").trim()).toBe(pid);
    await nodeSh(n1, "cat > /etc/containerd/config.toml", STOCK(n1));
  });

  test("item 6: a full disk mid-switch leaves the node as it was, and drift: fail does not call our write a hand edit", async () => {
    // The state root on a small tmpfs, filled so that the run runs out of space while it saves what it needs to
    // undo the switch (format 1 then switched anyway, and could not put the files back).
    const o = { stateRoot: "/var/lib/prr-full/state", drift: "fail" as const };
    const a = nodeScript(n2, regs({ password: CANARY }), [containerd(), { kind: "kubelet" }], o);
    const b = nodeScript(
      n2,
      regs({ password: `${CANARY}-b`, mirror: "alt" }),
      [containerd(), { kind: "kubelet" }],
      o,
    );
    for (const free of [3, 26, 28]) {
      await resetNode(n2);
      await nodeSh(
        n2,
        "mkdir -p /var/lib/prr-full && mount -t tmpfs -o size=256k prr-full /var/lib/prr-full",
      );
      try {
        await runOk(n2, "apply", a);
        const applied = await snapshot(n2);
        await nodeSh(
          n2,
          `dd if=/dev/zero of=/var/lib/prr-full/.filler bs=4096 count=${64 - free} 2>/dev/null; true`,
        );
        const full = await runScript(n2, "apply", b);
        await nodeSh(n2, "rm -f /var/lib/prr-full/.filler");
        if (full.code !== 0) expect({ free, node: await snapshot(n2) }).toEqual({ free, node: applied });
        const next = await runScript(n2, "apply", b);
        expect({ free, code: next.code, stderr: next.stderr }).toEqual({ free, code: 0, stderr: "" });
        expect(parseSummary(next.stdout)!.drift).toEqual([]);
        await runOk(n2, "destroy", b);
      } finally {
        await nodeSh(n2, "umount /var/lib/prr-full; rmdir /var/lib/prr-full; true");
      }
    }
  });

  test("item 7: a run killed with SIGKILL leaves no decoded credential after the next run", async () => {
    const script = withCredential(n3);
    const killer = nodeScript(n3, regs({ password: `${CANARY}-k` }), [
      containerd({ restart: ["sh", "-c", "kill -9 $PPID"] }),
      { kind: "kubelet" },
    ]);
    const killed = await runScript(n3, "apply", killer);
    expect(killed.signal).toBe("SIGKILL");
    await runOk(n3, "apply", script);
    expect(await filesContaining(n3, CANARY)).toEqual([
      "/etc/containerd/config.toml",
      "/var/lib/kubelet/config.json",
    ]);
    await runOk(n3, "destroy", script);
    expect(await filesContaining(n3, CANARY)).toEqual([]);
  });

  test("item 8: a symlinked target stays a link to the same file; rollback and destroy restore the file behind it", async () => {
    const real = '{\n  "log-driver": "journald"\n}\n';
    await nodeSh(
      n1,
      `mkdir -p /etc/docker && printf '%s' '${real}' > /etc/docker/daemon.real.json && chown 1234:1234 /etc/docker/daemon.real.json && chmod 640 /etc/docker/daemon.real.json && ln -s daemon.real.json /etc/docker/daemon.json`,
    );
    const before = await snapshot(n1);
    const docker = (reload: string[]) =>
      nodeScript(n1, regs({ mirror: "" }), [{ kind: "docker", reload }], { noChecks: true });
    await runOk(n1, "apply", docker(["true"]));
    expect(nodeStat(n1, "/etc/docker/daemon.json")!.type).toBe("symbolic link");
    expect(JSON.parse(nodeFile(n1, "/etc/docker/daemon.real.json")!)["registry-mirrors"]).toContain(
      `http://${PLAIN}`,
    );
    expect(nodeStat(n1, "/etc/docker/daemon.real.json")).toMatchObject({ mode: "640", uid: 1234, gid: 1234 });
    const applied = await snapshot(n1);
    // A failing reload puts the file behind the link back; the link stays.
    const failing = nodeScript(n1, regs({ dockerIo: false }), [{ kind: "docker", reload: ["false"] }], {
      noChecks: true,
    });
    const r = await runScript(n1, "apply", failing);
    expect(r.code).toBe(5);
    expect(await snapshot(n1)).toBe(applied);
    await runOk(n1, "destroy", docker(["true"]));
    expect(await snapshot(n1)).toBe(before);
    // Links that lead nowhere, or out of the directories the declaration writes in, are refused.
    await nodeSh(n1, "ln -sfn /etc/docker/nowhere.json /etc/docker/daemon.json");
    const dangling = await runScript(n1, "apply", docker(["true"]));
    expect(dangling.code).toBe(65);
    expect(dangling.stderr).toContain("symbolic link that leads to no regular file");
    await nodeSh(
      n1,
      "mkdir -p /etc/prr-cm && cp /etc/docker/daemon.real.json /etc/prr-cm/daemon.json && ln -sfn /etc/prr-cm/daemon.json /etc/docker/daemon.json",
    );
    const outside = await runScript(n1, "apply", docker(["true"]));
    expect(outside.code).toBe(65);
    expect(outside.stderr).toContain("outside the directories this declaration writes in");
    await nodeSh(n1, "rm -rf /etc/prr-cm; rm -f /etc/docker/daemon.json /etc/docker/daemon.real.json");
  });

  test("item 9: a second owner writing a whole file the first one manages is refused, naming the first", async () => {
    const pristine = await snapshot(n2);
    const one = withCredential(n2, { owner: "one" });
    const two = nodeScript(n2, regs({ password: `${CANARY}-2` }), [{ kind: "kubelet" }], { owner: "two" });
    await runOk(n2, "apply", one);
    const applied = await snapshot(n2);
    const r = await runScript(n2, "apply", two);
    expect(r.code).toBe(65);
    expect(r.stderr).toContain('/var/lib/kubelet/config.json is already managed by owner "one"');
    expect(await snapshot(n2)).toBe(applied);
    // Managed blocks of two owners in one file are fine (this one's registry has files of its own).
    const blockOf = (owner: string, password: string) =>
      nodeScript(
        n2,
        { "other.example:5000": { server: rig.deadServer, auth: { username: "u", password } } },
        [containerd({ manageConfigPath: false })],
        { owner },
      );
    await runOk(n2, "apply", blockOf("three", `${CANARY}-3`));
    await runOk(n2, "destroy", blockOf("three", `${CANARY}-3`));
    await runOk(n2, "destroy", one);
    expect(await snapshot(n2)).toBe(pristine);
  });

  test("item 10: an owner change in place is refused; delete with the old owner, then create with the new, works", async () => {
    const pristine = await snapshot(n3);
    const old = withCredential(n3, { owner: "old" });
    const renamed = withCredential(n3, { owner: "new" });
    await runOk(n3, "apply", old);
    const inPlace = await runScript(n3, "apply", renamed);
    expect(inPlace.code).toBe(65);
    expect(inPlace.stderr).toContain('is already managed by owner "old"');
    await runOk(n3, "destroy", old);
    await runOk(n3, "apply", renamed);
    await runOk(n3, "destroy", renamed);
    expect(await snapshot(n3)).toBe(pristine);
    expect(await filesContaining(n3, CANARY)).toEqual([]);
  });

  test("item 11: a second node entry reaching the same host with the same owner is refused", async () => {
    const pristine = await snapshot(n1);
    const first = withCredential(n1);
    const twin = withCredential(n1, { node: { ...n1, name: "node1-again" } });
    await runOk(n1, "apply", first);
    const applied = await snapshot(n1);
    const r = await runScript(n1, "apply", twin);
    expect(r.code).toBe(65);
    expect(r.stderr).toContain('was written by the node entry "node1", not "node1-again"');
    expect(await snapshot(n1)).toBe(applied);
    const d = await runScript(n1, "destroy", twin);
    expect(d.code).toBe(65);
    await runOk(n1, "destroy", first);
    expect(await snapshot(n1)).toBe(pristine);
  });

  test("item 12: a tampered manifest line is never acted on: destroy refuses it and deletes nothing", async () => {
    const script = withCredential(n2);
    await runOk(n2, "apply", script);
    await nodeSh(n2, "mkdir -p /var/lib/prr-victim && echo keep > /var/lib/prr-victim/data");
    const manifest = `${ROOT}/t/manifest`;
    const victims = [
      "/etc/hostname",
      "/var/lib/prr-victim/data",
      `${ROOT}/t/backups/b1`,
      "/etc/containerd/../hostname",
    ];
    for (const victim of victims) {
      const sha = (await nodeSh(n2, `sha256sum ${victim} | cut -c1-64`)).trim();
      const text = nodeFile(n2, manifest)!;
      // A line in whichever format the state is in (format 1: kind path sha origin effect extra).
      const line = text.startsWith("V\t2\n")
        ? `E\tfile\t${victim}\t${victim}\t${sha}\tcreated\t-\t-\t-\n`
        : `file\t${victim}\t${sha}\tcreated\t-\t-\n`;
      await nodeSh(n2, `cp ${manifest} /run/prr-manifest && cat >> ${manifest}`, line);
      const r = await runScript(n2, "destroy", script);
      expect(r.code).toBe(65);
      expect(r.stderr).toContain(`names ${victim}, which`);
      expect(await nodeSh(n2, `test -e ${victim} && echo present`)).toBe("present\n");
      await nodeSh(n2, `cp /run/prr-manifest ${manifest}`);
    }
    await runOk(n2, "destroy", script);
    expect(nodeFile(n2, "/var/lib/prr-victim/data")).toBe("keep\n");
    await nodeSh(n2, "rm -rf /var/lib/prr-victim /run/prr-manifest");
  });

  test("item 13: no temp files after a failed write, merged files keep owner and mode, a refused first apply keeps its log", async () => {
    const pristine = await snapshot(n3);
    // A failed write (a full filesystem under the new files): nothing of ours stays in the target directories.
    await nodeSh(
      n3,
      "mkdir -p /etc/containerd/certs.d && mount -t tmpfs -o size=8k prr-full /etc/containerd/certs.d",
    );
    try {
      await nodeSh(
        n3,
        "dd if=/dev/zero of=/etc/containerd/certs.d/.filler bs=4096 count=1 2>/dev/null; true",
      );
      const r = await runScript(n3, "apply", withCredential(n3));
      expect(r.code).not.toBe(0);
      expect(await nodeSh(n3, "find /etc/containerd /var/lib/kubelet -name '.*prr*' 2>/dev/null; true")).toBe(
        "",
      );
    } finally {
      await nodeSh(n3, "umount /etc/containerd/certs.d; rmdir /etc/containerd/certs.d");
    }
    expect(await snapshot(n3)).toBe(pristine);
    // A merged file owned by someone else keeps its owner and mode.
    await nodeSh(
      n3,
      `mkdir -p /etc/docker && printf '{"log-driver": "journald"}\\n' > /etc/docker/daemon.json && chown 1234:1235 /etc/docker/daemon.json && chmod 640 /etc/docker/daemon.json`,
    );
    const docker = nodeScript(n3, regs({ mirror: "" }), [{ kind: "docker", reload: ["true"] }], {
      noChecks: true,
    });
    await runOk(n3, "apply", docker);
    expect(nodeStat(n3, "/etc/docker/daemon.json")).toMatchObject({ mode: "640", uid: 1234, gid: 1235 });
    await runOk(n3, "destroy", docker);
    await nodeSh(n3, "rm /etc/docker/daemon.json");
    // A first apply refused by containerd's own check points at a log that is there.
    await nodeSh(n3, "cat > /etc/containerd/config.toml", `${STOCK(n3)}[broken\n`);
    const refused = await runScript(
      n3,
      "apply",
      nodeScript(n3, regs({ password: CANARY }), [containerd({ containerdBinary: "containerd" })]),
    );
    expect(refused.code).toBe(66);
    const log = /see (\S+) on the node/.exec(refused.stderr)![1];
    expect(nodeStat(n3, log)).toMatchObject({ mode: "600", uid: 0 });
    expect(refused.stderr).not.toContain(CANARY);
  });

  test("item 14: removing the credential from the declaration removes it from the node", async () => {
    const pristine = await snapshot(n1);
    const without = nodeScript(n1, regs(), [containerd(), { kind: "kubelet" }]);
    // The file a declaration without credentials leaves (config_path set, no block of ours).
    await runOk(n1, "apply", without);
    const plain = nodeFile(n1, "/etc/containerd/config.toml");
    await runOk(n1, "destroy", without);
    await runOk(n1, "apply", withCredential(n1));
    expect(nodeFile(n1, "/etc/containerd/config.toml")).toContain(CANARY);
    const s = await runOk(n1, "apply", without);
    expect(s.changed).toContain("/etc/containerd/config.toml");
    expect(nodeFile(n1, "/etc/containerd/config.toml")).toBe(plain);
    expect(await filesContaining(n1, CANARY)).toEqual([]);
    await runOk(n1, "destroy", without);
    expect(await snapshot(n1)).toBe(pristine);
  });
});

describe("health check after a restart", () => {
  test("containerd that comes back without its CRI plugin is rolled back, though its restart command said ok", async () => {
    // The node's config already sets config_path; the block spliced in is what a MicroK8s `legacy: true`
    // declaration renders (registry.mirrors), a mistake on a MicroK8s >= 1.23 node. The edited file parses and
    // `containerd config dump` takes it; containerd then starts without CRI ("`mirrors` cannot be set when
    // `config_path` is provided"), and the restart command reports success whatever happens, as systemd's does.
    const configured = STOCK(n2).replace('config_path = ""', 'config_path = "/etc/containerd/certs.d"');
    await nodeSh(n2, "cat > /etc/containerd/config.toml", configured);
    await nodeExec(n2, [rig.scripts.nodeContainerd, "restart"]);
    const before = await snapshot(n2);
    const restart = ["sh", "-c", `${rig.scripts.nodeContainerd} restart >/dev/null 2>&1; exit 0`];
    const declaration: RegistriesArgs = {
      "quay.io": { mirrors: [{ endpoint: `http://${PLAIN}` }] },
      [TLS]: { tls: { ca: rig.tls.caPem }, auth: { username: rig.auth.user, password: CANARY } },
    };
    const plan = nodePlan(n2, declaration, [
      containerd({ restart, containerdBinary: "containerd", manageConfigPath: false }),
    ]);
    const legacy = renderCriRegistryBlock(normalizeRegistries(declaration), {
      configVersion: 2,
      certsDir: "/etc/containerd/certs.d",
      auth: true,
      tls: false,
      mirrors: true,
    }).block!;
    const broken = {
      ...plan,
      entries: plan.entries.map((e) => (e.kind === "block" ? { ...e, body: legacy } : e)),
    };
    const health = { kind: "containerd-cri" as const, argv: ["ctr", "--address", n2.containerdSocket] };
    const withHealth = { ...broken, services: broken.services.map((s) => ({ ...s, health })) };
    const r = await runScript(n2, "apply", planScript(withHealth), { timeoutMs: 90_000 });
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 5 });
    expect(parseSummary(r.stdout)).toMatchObject({ rolledBack: true, actions: ["restart:containerd"] });
    expect(r.stderr).toContain("has no working CRI plugin");
    expect(r.stderr).not.toContain(CANARY);
    expect(await snapshot(n2)).toBe(before);
    // Back on the restored file, CRI works again.
    const plugins = await nodeExec(n2, ["ctr", "--address", n2.containerdSocket, "plugins", "ls"]);
    expect(plugins.stdout).toMatch(/io\.containerd\.grpc\.v1\s+cri\s+\S+\s+ok/);
    // Without the check the same apply "succeeds" and leaves containerd without CRI.
    const blind = await runScript(n2, "apply", planScript(broken));
    expect(blind.code).toBe(0);
    const after = await nodeExec(n2, ["ctr", "--address", n2.containerdSocket, "plugins", "ls"]);
    expect(after.stdout).toMatch(/io\.containerd\.grpc\.v1\s+cri\s+\S+\s+error/);
    await runOk(n2, "destroy", planScript(broken));
    await nodeSh(n2, "cat > /etc/containerd/config.toml", STOCK(n2));
    await nodeExec(n2, [rig.scripts.nodeContainerd, "restart"]);
  }, 120_000);

  test("an import that replaces the CRI table would make config_path ineffective: refused before anything changes", async () => {
    await nodeSh(
      n3,
      `mkdir -p /etc/containerd/conf.d && printf '%s\\n' '[plugins."io.containerd.grpc.v1.cri".registry.mirrors."quay.io"]' '  endpoint = ["https://quay.example"]' > /etc/containerd/conf.d/mirrors.toml && cat > /etc/containerd/config.toml`,
      `imports = ["/etc/containerd/conf.d/mirrors.toml"]\n${STOCK(n3)}`,
    );
    // (The refused run keeps containerd's message in the state directory: only the targets are compared.)
    const before = await snapshot(n3, ["/etc/containerd"]);
    const r = await runScript(
      n3,
      "apply",
      nodeScript(n3, regs(), [containerd({ containerdBinary: "containerd" })]),
    );
    expect(r.code).toBe(66);
    expect(await snapshot(n3, ["/etc/containerd"])).toBe(before);
    expect(await nodeSh(n3, `cat ${ROOT}/t/last-check.log`)).toContain("/etc/containerd/conf.d/mirrors.toml");

    // Without the import the same apply passes, and the refusal's log (it may quote a file) goes with it.
    await nodeSh(n3, "rm -rf /etc/containerd/conf.d && cat > /etc/containerd/config.toml", STOCK(n3));
    const script = nodeScript(n3, regs(), [containerd({ containerdBinary: "containerd" })]);
    const ok = await runScript(n3, "apply", script);
    expect({ code: ok.code, stderr: ok.stderr }).toEqual({ code: 0, stderr: "" });
    // The profile names no socket and nothing listens at the default one on this node: the restart's health check
    // could not run, and the summary says so.
    expect(parseSummary(ok.stdout)).toMatchObject({
      actions: ["restart:containerd"],
      unchecked: ["containerd"],
    });
    expect(nodeStat(n3, `${ROOT}/t/last-check.log`)).toBeUndefined();
    await runOk(n3, "destroy", script);
    expect(nodeStat(n3, `${ROOT}/t`)).toBeUndefined();
  });
});
