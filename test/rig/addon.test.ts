/**
 * MicroK8sRegistryAddon on a real node, against the STAND-IN `microk8s` (test/rig/bin/microk8s-standin): MicroK8s
 * cannot run here, so the stand-in replays what MicroK8s prints and returns (from its sources, see the script's
 * header) and models the addon's claim, volume and data directory on node1. The component's command runs over real
 * SSH exactly as `remote.Command` would run it (create, update with new inputs, delete with the stored old stdin).
 *
 * Then the real proof of the addon's endpoint: a real registry (Debian's docker-registry, distribution 2.8.2)
 * listening at node1's address on :32000 — inside node1's network namespace, its own scratch directory and PID file,
 * stopped by PID — is pulled from by node2's and node3's own containerd (CRI, as kubelet pulls) through the plain-HTTP
 * hosts.toml that ClusterRegistries writes for `{ [addon.endpoint]: { plainHttp: true } }`, each pull proven by the
 * digest of an image only that registry holds.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ClusterRegistries, MicroK8sRegistryAddon, MicroK8sRegistryAddonArgs } from "../../components";
import { MICROK8S_ADDON_HOOKS } from "../../components/resources/microk8sAddon";
import { declareResources, SimulatedStack } from "../helpers/commandHarness";
import { rigScratch } from "../helpers/consumers";
import { resetNode } from "../helpers/nodeScript";
import {
  criPull,
  criRemove,
  criStatus,
  criManifestDigest,
  loadRig,
  nodeExec,
  nodeFile,
  nodeStat,
  Rig,
  RigNode,
  rigHttp,
  RunResult,
  runOk,
  skopeo,
  sshRun,
} from "../helpers/rig";

const rig: Rig = loadRig();
const [n1, n2, n3] = rig.nodes;
const STANDIN = path.join(rig.repo, "test", "rig", "bin", "microk8s-standin");
const SD = "/var/lib/microk8s-standin";
const DATA = "/var/snap/microk8s/common/default-storage";
let scratch: string;

const connection = (n: RigNode) => ({
  host: n.ip,
  port: n.port,
  user: "root",
  privateKey: rig.ssh.privateKey,
  hostKey: n.hostKey,
});

function addon(name: string, args: Omit<MicroK8sRegistryAddonArgs, "node">, timeoutSeconds = 20) {
  return new MicroK8sRegistryAddon(
    name,
    Object.assign(
      {
        node: { name: "node1", connection: connection(n1), profiles: [{ kind: "microk8s" as const }] },
        ...args,
      },
      { [MICROK8S_ADDON_HOOKS]: { microk8s: STANDIN, timeoutSeconds } },
    ),
  );
}

/** The stand-in's scenario knobs on node1 (see its header); an empty list is MicroK8s as it is today. */
async function scenario(...lines: string[]): Promise<void> {
  const r = await nodeExec(n1, [
    "sh",
    "-c",
    `mkdir -p ${SD} && printf '%s\\n' "$@" >${SD}/config`,
    "sh",
    ...lines,
  ]);
  if (r.code !== 0) throw new Error(r.stderr);
}
/** What the stand-in was asked since the last call (and a fresh log). */
async function calls(): Promise<string[]> {
  const text = nodeFile(n1, `${SD}/calls`) ?? "";
  await nodeExec(n1, ["rm", "-f", `${SD}/calls`]);
  return text.split("\n").filter(Boolean);
}
async function resetStandin(): Promise<void> {
  await nodeExec(n1, ["rm", "-rf", SD, "/var/snap", "/var/lib/pulumi-registries"]);
}
const summary = (stdout: string) => {
  const line = stdout.split("\n").find((l) => l.startsWith("PULUMI_REGISTRY_ADDON "));
  return line ? (JSON.parse(line.slice(22)) as Record<string, string>) : undefined;
};
const standin = (args: string[]) => nodeExec(n1, [STANDIN, ...args]);

afterAll(async () => {
  await resetStandin();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

describe("the stand-in replays MicroK8s' outputs and exit codes", () => {
  beforeAll(resetStandin);

  test.each([
    // [scenario, argv, exit code, stdout contains, stderr contains]
    [
      [],
      ["enable", "registry", "--size", "10Gi"],
      1,
      "ERROR: The size of the registry should be higher or equal to 20Gi and match the regex: (^[2-9][0-9]{1,}|^[1-9][0-9]{2,})(Gi$)",
      "Infer repository core for addon registry",
    ],
    [
      [],
      ["enable", "registry:size=10Gi"],
      1,
      "WARNING: This style of specifying size is deprecated. Use newer --size argument instead.",
      "Infer repository core for addon hostpath-storage",
    ],
    [[], ["enable", "registry", "--storageclass", "nope"], 1, "ERROR: Storage class nope doesn't exist.", ""],
    [
      ["version=1.20"],
      ["enable", "registry:size=10Gi"],
      0,
      "The size of the registry should be higher or equal to 20Gi",
      "",
    ],
    [
      ["version=1.20"],
      ["enable", "registry", "--size", "40Gi"],
      0,
      'The only authorized argument is "size", eg  microk8s.enable registry:size=30Gi',
      "",
    ],
    [[], ["disable", "registry"], 0, "Addon core/registry is already disabled", ""],
    [
      ["foreign=registry-ui"],
      ["enable", "registry", "--size", "40Gi"],
      0,
      "Addon core/registry is already enabled",
      "",
    ],
    [
      [],
      [
        "kubectl",
        "-n",
        "container-registry",
        "get",
        "pvc",
        "registry-claim",
        "-o",
        "jsonpath={.status.phase}",
      ],
      1,
      "",
      'Error from server (NotFound): persistentvolumeclaims "registry-claim" not found',
    ],
    [[], ["kubectl", "get", "nodes"], 99, "", "microk8s-standin: not modelled"],
  ])("%j microk8s %j -> exit %d", async (knobs, argv, code, out, err) => {
    await scenario(...(knobs as string[]));
    const r = await standin(argv as string[]);
    expect({
      code: r.code,
      out: r.stdout.includes(out as string),
      err: r.stderr.includes(err as string),
    }).toEqual({
      code,
      out: true,
      err: true,
    });
    // Nothing of the registry exists after any of these (the bad sizes enabled hostpath-storage on the way).
    expect((await standin(["status", "-a", "registry"])).stdout).toBe(
      (knobs as string[]).includes("foreign=registry-ui") ? "enabled\n" : "disabled\n",
    );
  });

  test("enable, then the real sequence: Pending until the pod is scheduled, rollout, Bound, disable", async () => {
    await resetStandin();
    const en = await standin(["enable", "registry", "--size", "40Gi"]);
    expect(en.code).toBe(0);
    expect(en.stdout).toContain(
      "The registry will be created with the size of 40Gi.\nDefault storage class will be used.\nnamespace/container-registry created",
    );
    const phase = [
      "kubectl",
      "-n",
      "container-registry",
      "get",
      "pvc",
      "registry-claim",
      "-o",
      "jsonpath={.status.phase}",
    ];
    expect((await standin(phase)).stdout).toBe("Pending");
    const ro = await standin([
      "kubectl",
      "-n",
      "container-registry",
      "rollout",
      "status",
      "deployment/registry",
      "--timeout=5s",
    ]);
    expect(ro.stdout).toBe(
      'Waiting for deployment "registry" rollout to finish: 0 of 1 updated replicas are available...\ndeployment "registry" successfully rolled out\n',
    );
    expect((await standin(phase)).stdout).toBe("Bound");
    expect((await standin(["enable", "registry", "--size", "80Gi"])).stdout).toBe(
      "Addon core/registry is already enabled\n",
    );
    const dis = await standin(["disable", "registry"]);
    expect(dis.stdout).toContain(
      "The registry is disabled. Use 'microk8s disable hostpath-storage:destroy-storage' to free the storage space.",
    );
  });
});

describe("MicroK8sRegistryAddon against the stand-in on node1", () => {
  beforeAll(resetStandin);

  test("enable: the addon is enabled, then verified (rollout, claim Bound); the endpoint is node1:32000", async () => {
    const stack = new SimulatedStack();
    let endpoint: string | undefined;
    const declared = await declareResources(() => {
      const a = addon("reg", { size: "20Gi" });
      a.endpoint.apply((e) => (endpoint = e));
      return a;
    });
    expect(endpoint).toBe(`${n1.ip}:32000`);
    expect([...declared.keys()]).toEqual(["reg-addon"]);
    const r = (await stack.up(declared)).get("reg-addon") as RunResult;
    expect(r.code).toBe(0);
    expect(summary(r.stdout)).toMatchObject({ action: "enabled", size: "20Gi", reclaimPolicy: "Delete" });
    expect(r.stderr).toContain("Infer repository core for addon registry");
    expect(r.stderr).toContain("The registry will be created with the size of 20Gi.");
    expect(r.stderr).toContain('deployment "registry" successfully rolled out');
    const c = await calls();
    expect(c).toContain("enable registry --size 20Gi");
    expect(c).toContain("kubectl -n container-registry rollout status deployment/registry --timeout=20s");

    // The same declaration: nothing runs. The command run again anyway (new connection): checks, enables nothing.
    expect(
      (await stack.up(await declareResources(() => addon("reg", { size: "20Gi" })))).get("reg-addon"),
    ).toBe("unchanged");
    const state = stack.commands.get("reg-addon")!.state!;
    const again = await sshRun(n1, state.update!, state.stdin);
    expect(summary(again.stdout)).toMatchObject({ action: "unchanged" });
    expect((await calls()).filter((l) => l.startsWith("enable"))).toEqual([]);

    // A size change is refused, with what to do instead; nothing is enabled or resized.
    const bigger = await stack.up(await declareResources(() => addon("reg", { size: "40Gi" })));
    const refused = bigger.get("reg-addon") as RunResult;
    expect(refused.code).toBe(65);
    expect(refused.stderr).toContain(
      "reg-addon: the registry's claim container-registry/registry-claim is 20Gi and 40Gi was declared",
    );
    expect(refused.stderr).toContain('Declare size "20Gi" to keep the registry');
    expect(refused.stderr).toContain("pulumi up --replace");
    expect((await calls()).filter((l) => !l.startsWith("kubectl -n container-registry get"))).toEqual([]);
    // Back to the old size: the stored inputs are the old ones (a failed update keeps them): nothing to run.
    expect(
      (await stack.up(await declareResources(() => addon("reg", { size: "20Gi" })))).get("reg-addon"),
    ).toBe("unchanged");

    // keepData: the update records it; destroy sets the volume to Retain before disabling, and its data stays.
    const keep = (
      await stack.up(await declareResources(() => addon("reg", { size: "20Gi", keepData: true })))
    ).get("reg-addon") as RunResult;
    expect(summary(keep.stdout)).toMatchObject({ action: "unchanged" });
    const volume = summary(keep.stdout)!.volume;
    expect(volume).toMatch(/^pvc-[0-9a-f-]{36}$/);
    const dir = `${DATA}/container-registry-registry-claim-${volume}`;
    await nodeExec(n1, ["sh", "-c", `mkdir -p ${dir}/docker && echo blob >${dir}/docker/image`]);
    const gone = (await stack.destroy()).get("reg-addon") as RunResult;
    expect(gone.code).toBe(0);
    expect(summary(gone.stdout)).toMatchObject({ action: "disabled", volume, reclaimPolicy: "Retain" });
    expect(gone.stderr).toContain(`kept: volume ${volume} is Released`);
    expect(gone.stderr).toContain("does NOT re-attach");
    expect(await calls()).toContain(
      `kubectl patch pv ${volume} -p {"spec":{"persistentVolumeReclaimPolicy":"Retain"}}`,
    );
    expect(nodeFile(n1, `${dir}/docker/image`)).toBe("blob\n");
    expect((await standin(["kubectl", "get", "pv", volume, "-o", "jsonpath={.status.phase}"])).stdout).toBe(
      "Released",
    );

    // Enabled again: a new claim and a new volume (the kept one is not re-attached); destroy without keepData
    // deletes the new volume's data.
    const stack2 = new SimulatedStack();
    const re = (await stack2.up(await declareResources(() => addon("reg", { size: "20Gi" })))).get(
      "reg-addon",
    ) as RunResult;
    const volume2 = summary(re.stdout)!.volume;
    expect(volume2).not.toBe(volume);
    const dir2 = `${DATA}/container-registry-registry-claim-${volume2}`;
    expect(nodeStat(n1, dir2)?.type).toBe("directory");
    const gone2 = (await stack2.destroy()).get("reg-addon") as RunResult;
    expect(gone2.code).toBe(0);
    expect(gone2.stderr).toContain(
      `deleted: the claim registry-claim and, by its reclaim policy Delete, volume ${volume2}`,
    );
    expect(nodeStat(n1, dir2)).toBeUndefined();
    expect(nodeFile(n1, `${dir}/docker/image`)).toBe("blob\n"); // the kept one is still there
    expect(nodeStat(n1, "/var/lib/pulumi-registries")).toBeUndefined();
  });

  test.each([
    ["MicroK8s 1.20 ignores the addon's exit code", ["version=1.20"], "The only authorized argument"],
    ["a failed kubectl apply inside enable still exits 0", ["apply=fail"], "stand-in: simulated API failure"],
    [
      "another Deployment named registry* makes enable skip",
      ["foreign=registry-ui"],
      "Addon core/registry is already enabled",
    ],
  ])("exit 0 with nothing enabled is caught: %s", async (_, knobs, printed) => {
    await resetStandin();
    await scenario(...knobs);
    const stack = new SimulatedStack();
    const r = (await stack.up(await declareResources(() => addon("reg", { size: "20Gi" })))).get(
      "reg-addon",
    ) as RunResult;
    expect(r.code).toBe(70);
    expect(r.stderr).toContain(printed);
    expect(r.stderr).toContain(
      "reg-addon: microk8s enable registry exited 0 but there is no Deployment container-registry/registry",
    );
    expect(stack.commands.get("reg-addon")!.state).toBeUndefined(); // a failed create stores nothing
  });

  test("a storage class that cannot provision the claim: Pending, caught after the timeout", async () => {
    await resetStandin();
    await scenario("classes=rwo-only:rwo fast:rwx");
    const stack = new SimulatedStack();
    const t0 = Date.now();
    const r = (
      await stack.up(
        await declareResources(() => addon("reg", { size: "20Gi", storageClass: "rwo-only" }, 2)),
      )
    ).get("reg-addon") as RunResult;
    expect(r.code).toBe(70);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2000);
    expect(r.stderr).toContain("error: timed out waiting for the condition");
    expect(r.stderr).toContain(
      "reg-addon: the registry did not become ready within 2s; its claim registry-claim is Pending. A claim that stays Pending usually means its storage class cannot provision it",
    );
    expect(await calls()).toContain("enable registry --size 20Gi --storageclass rwo-only");
    // A class that does not exist: the addon's own error and exit code.
    await resetStandin();
    const bad = (
      await new SimulatedStack().up(
        await declareResources(() => addon("reg", { size: "20Gi", storageClass: "nope" })),
      )
    ).get("reg-addon") as RunResult;
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("ERROR: Storage class nope doesn't exist.");
    expect(bad.stderr).toContain("reg-addon: microk8s enable registry failed (exit 1)");
  });
});

describe("the addon's endpoint, for real: node2 and node3 pull from a registry at node1:32000", () => {
  let registry: { child: ChildProcess; pidFile: string; exited: boolean } | undefined;
  let image: { digest: string; configDigest: string };
  const REF = `${n1.ip}:32000/rig/addon:v1`;

  beforeAll(async () => {
    await resetStandin();
    // node2 and node3 as the rig started them, whatever earlier files left there.
    await Promise.all([n2, n3].map((n) => resetNode(n, `${rig.scripts.nodeContainerd} restart`)));
    scratch = rigScratch("addon");
    const layout = path.join(scratch, "oci");
    const [digest, configDigest] = (
      await runOk(path.join(rig.repo, "test", "rig", "bin", "make-oci.sh"), [
        layout,
        "v1",
        "served by node1:32000 (the addon's endpoint)",
      ])
    )
      .trim()
      .split(" ");
    image = { digest, configDigest };
    const dir = path.join(scratch, "registry");
    fs.mkdirSync(path.join(dir, "data"), { recursive: true });
    const cfg = path.join(dir, "config.yml");
    fs.writeFileSync(
      cfg,
      `version: 0.1\nlog: {level: info}\nstorage: {filesystem: {rootdirectory: ${dir}/data}}\nhttp: {addr: "0.0.0.0:32000", secret: addon-test}\n`,
    );
    const fd = fs.openSync(path.join(dir, "registry.log"), "w");
    // `ip netns exec` execs: the child's PID is the registry's. Node1's network namespace, the host's files.
    const child = spawn("ip", ["netns", "exec", n1.netns, "docker-registry", "serve", cfg], {
      stdio: ["ignore", fd, fd],
    });
    fs.closeSync(fd);
    registry = { child, pidFile: path.join(dir, "registry.pid"), exited: false };
    child.on("exit", () => (registry!.exited = true));
    fs.writeFileSync(registry.pidFile, `${child.pid}\n`);
    for (let i = 0; i < 200; i++) {
      const up = await rigHttp(`http://${n1.ip}:32000/v2/`).catch(() => undefined);
      if (up?.status === 200) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const seed = await skopeo([
      "copy",
      "-q",
      "--dest-tls-verify=false",
      `oci:${layout}:v1`,
      `docker://${REF}`,
    ]);
    if (seed.code !== 0) throw new Error(seed.stderr);
  });

  afterAll(async () => {
    for (const n of [n2, n3]) await criRemove(n.containerdSocket, REF).catch(() => undefined);
    if (registry && fs.existsSync(registry.pidFile)) {
      const pid = Number(fs.readFileSync(registry.pidFile, "utf8").trim());
      if (!registry.exited && pid === registry.child.pid) {
        process.kill(pid, "SIGTERM");
        for (let i = 0; i < 200 && !registry.exited; i++) await new Promise((r) => setTimeout(r, 50));
        if (!registry.exited) process.kill(pid, "SIGKILL");
      }
      fs.rmSync(registry.pidFile);
    }
  });

  test("hosts.toml for the endpoint written by ClusterRegistries; CRI pulls proven by digest; destroy gives back", async () => {
    // Before: containerd takes an IP:port registry for HTTPS and the plain-HTTP registry refuses that.
    await expect(criPull(n2.containerdSocket, REF)).rejects.toThrow(
      /server gave HTTP response to HTTPS client/,
    );
    const stack = new SimulatedStack();
    const restart = [rig.scripts.nodeContainerd, "restart"];
    const declared = await declareResources(() => {
      const a = addon("reg", { size: "20Gi" });
      // Exactly the entry RegistrySetup adds for the addon: a plain-HTTP registry at the addon's endpoint.
      const registries = a.endpoint.apply((e) => ({ [e]: { plainHttp: true } }));
      const nodes = new ClusterRegistries(
        "mk",
        {
          registries,
          nodes: [n2, n3].map((n) => ({
            name: n.name,
            connection: connection(n),
            profiles: [{ kind: "containerd" as const, restart, socket: n.containerdSocket }],
          })),
        },
        { dependsOn: [a] },
      );
      return [a, nodes];
    });
    const result = await stack.up(declared);
    for (const [name, r] of result) expect([name, (r as RunResult).code]).toEqual([name, 0]);
    for (const n of [n2, n3]) {
      const hosts = nodeFile(n, `/etc/containerd/certs.d/${n1.ip}:32000/hosts.toml`)!;
      expect(hosts).toContain(`server = "http://${n1.ip}:32000"`);
      expect(await criPull(n.containerdSocket, REF)).toBe(image.configDigest);
      expect(criManifestDigest(await criStatus(n.containerdSocket, REF))).toBe(image.digest);
      await criRemove(n.containerdSocket, REF);
    }
    const gone = await stack.destroy();
    for (const [name, r] of gone) {
      const res = r as RunResult;
      expect([name, res.code, res.code === 0 ? "" : res.stderr]).toEqual([name, 0, ""]);
    }
    for (const n of [n2, n3]) expect(nodeStat(n, `/etc/containerd/certs.d/${n1.ip}:32000`)).toBeUndefined();
  });
});
