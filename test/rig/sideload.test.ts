/**
 * SideLoad on three real nodes: the copies (`remote.CopyToRemote`, simulated over real SFTP) and the imports
 * (`remote.Command`, over real SSH) that the component declares run as the provider would run them, and each node's
 * own containerd imports the tarballs with `ctr -n k8s.io images import` against its socket.
 *
 * The tarballs are written by skopeo from the rig's reproducible OCI layouts (an oci-archive and a docker-archive),
 * so each imported image is proven by digest: containerd's target digest for the OCI layout (the manifest digest
 * the rig knows) and, through CRI (what kubelet asks), the image's config digest for both.
 *
 * The profile's `ctr` is a wrapper that logs each call on the node's private /run before running the real ctr: the
 * proof that the same tarball again imports nothing, and that a changed one is imported.
 */
import * as fs from "fs";
import * as path from "path";
import { SideLoad } from "../../components";
import { parseSideLoadSummary } from "../../components/resources/sideLoad";
import { declareResources, SimulatedStack } from "../helpers/commandHarness";
import { rigScratch } from "../helpers/consumers";
import {
  criStatus,
  loadRig,
  nodeDockerd,
  nodeExec,
  nodeFile,
  nodeStat,
  Rig,
  RigNode,
  RunResult,
  skopeo,
  sshRun,
} from "../helpers/rig";

const rig: Rig = loadRig();
const CALLS = "/run/sideload-ctr-calls";
const APP = "docker.io/rig/sideload:v1";
const TOOLS = "docker.io/rig/tools:v1";
const STAGING = "/var/tmp/pulumi-registries/sideload/registries";
let scratch: string;
let wrapper: string;
let app: string;
let tools: string;

/** Write a tarball of a rig OCI layout with skopeo (`kind` oci-archive or docker-archive), named `name`. */
async function archive(layout: string, kind: string, file: string, name: string): Promise<void> {
  fs.rmSync(file, { force: true });
  const r = await skopeo(["copy", "-q", `oci:${layout}:v1`, `${kind}:${file}:${name}`]);
  if (r.code !== 0) throw new Error(`skopeo copy to ${file} failed: ${r.stderr}`);
}

function program(more: { dialErrorLimit?: number } = {}) {
  return new SideLoad("sl", {
    nodes: rig.nodes.map((n) => ({
      name: n.name,
      connection: {
        ...more,
        host: n.ip,
        port: n.port,
        user: "root",
        privateKey: rig.ssh.privateKey,
        hostKey: n.hostKey,
      },
      profiles: [{ kind: "containerd" as const, ctr: wrapper, socket: n.containerdSocket }],
    })),
    images: [
      { path: app, format: "oci-archive" },
      { path: tools, format: "docker-archive" },
    ],
  });
}

/** The node containerd's images in namespace k8s.io: ref -> target digest. */
async function images(n: RigNode): Promise<Record<string, string>> {
  const r = await nodeExec(n, ["ctr", "--address", n.containerdSocket, "-n", "k8s.io", "images", "ls"]);
  if (r.code !== 0) throw new Error(r.stderr);
  return Object.fromEntries(
    r.stdout
      .split("\n")
      .slice(1)
      .filter(Boolean)
      .map((l) => l.split(/\s+/))
      .map((c) => [c[0], c[2]]),
  );
}
/** What the ctr wrapper logged on a node since the last call, and a fresh log. */
async function ctrCalls(n: RigNode): Promise<string[]> {
  const text = nodeFile(n, CALLS) ?? "";
  await nodeExec(n, ["rm", "-f", CALLS]);
  return text.split("\n").filter(Boolean);
}
const imports = (calls: string[]) => calls.filter((c) => / images import /.test(` ${c} `));
const ok = (r: unknown) => {
  const run = r as RunResult;
  expect({ code: run.code, stderr: run.code === 0 ? "" : run.stderr }).toEqual({ code: 0, stderr: "" });
  return run;
};

beforeAll(async () => {
  scratch = rigScratch("sideload");
  wrapper = path.join(scratch, "ctr-logged");
  // Runs inside a node (its own /run): log the call, then the real ctr.
  fs.writeFileSync(wrapper, `#!/bin/sh\nprintf '%s\\n' "$*" >>${CALLS}\nexec ctr "$@"\n`, { mode: 0o755 });
  app = path.join(scratch, "app.tar");
  tools = path.join(scratch, "tools.tar");
  await archive(rig.images.plain.ociLayout, "oci-archive", app, APP);
  await archive(rig.images.alt.ociLayout, "docker-archive", tools, "rig/tools:v1");
});

afterAll(async () => {
  for (const n of rig.nodes) {
    const ctr = ["ctr", "--address", n.containerdSocket, "-n", "k8s.io", "images", "rm"];
    await nodeExec(n, [...ctr, APP, TOOLS]);
    await nodeExec(n, ["rm", "-rf", CALLS, "/var/tmp/pulumi-registries", "/var/lib/pulumi-registries"]);
  }
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

describe("SideLoad on three real nodes", () => {
  const stack = new SimulatedStack();

  test("apply: each tarball copied and imported on every node, proven by digest, in declaration order", async () => {
    const declared = await declareResources(program);
    const deps = Object.fromEntries([...declared.values()].map((d) => [d.name, d.dependsOn]));
    expect(deps["sl-node1-app.tar-copy"]).toEqual([]);
    expect(deps["sl-node1-app.tar-import"]).toEqual(["sl-node1-app.tar-copy"]);
    expect(deps["sl-node1-tools.tar-import"].sort()).toEqual([
      "sl-node1-app.tar-import",
      "sl-node1-tools.tar-copy",
    ]);
    expect(declared.size).toBe(12);
    const t0 = Date.now();
    const result = await stack.up(declared);
    console.log(`[sideload] first apply on 3 nodes x 2 tarballs: ${Date.now() - t0} ms`);
    for (const [name, r] of result) expect([name, (r as RunResult).code]).toEqual([name, 0]);
    for (const n of rig.nodes) {
      const sum = parseSideLoadSummary((result.get(`sl-${n.name}-app.tar-import`) as RunResult).stdout)!;
      expect(sum).toMatchObject({ action: "imported", imported: true, refs: [APP] });
      expect(
        parseSideLoadSummary((result.get(`sl-${n.name}-tools.tar-import`) as RunResult).stdout),
      ).toMatchObject({
        imported: true,
        refs: [TOOLS],
      });
      const have = await images(n);
      expect(have[APP]).toBe(rig.images.plain.digest); // the OCI layout's manifest, as the rig pushed it
      expect(have[TOOLS]).toMatch(/^sha256:[0-9a-f]{64}$/); // synthesized by containerd from manifest.json
      // CRI (kubelet) sees both, by their config digests.
      expect((await criStatus(n.containerdSocket, APP))?.id).toBe(rig.images.plain.configDigest);
      expect((await criStatus(n.containerdSocket, TOOLS))?.id).toBe(rig.images.alt.configDigest);
      expect(imports(await ctrCalls(n))).toEqual([
        `--address ${n.containerdSocket} -n k8s.io images import ${STAGING}/app.tar`,
        `--address ${n.containerdSocket} -n k8s.io images import ${STAGING}/tools.tar`,
      ]);
      expect(nodeStat(n, `${STAGING}/app.tar`)).toMatchObject({ mode: "644", size: fs.statSync(app).size });
      expect(nodeFile(n, "/var/lib/pulumi-registries/sideload/registries/app.tar.state")).toMatch(
        new RegExp(`^sha256 [0-9a-f]{64}\nref ${APP}\n$`),
      );
    }
  });

  test("the same tarballs again: nothing is copied, nothing runs, ctr is not called", async () => {
    const result = await stack.up(await declareResources(program));
    expect(new Set(result.values())).toEqual(new Set(["unchanged"]));
    for (const c of stack.copies.values()) expect(c.sessions).toBe(1);
    for (const c of stack.commands.values()) expect(c.sessions).toBe(1);
    for (const n of rig.nodes) expect(await ctrCalls(n)).toEqual([]);
  });

  test("a new connection setting: the copies copy nothing, the imports run, check, and import nothing", async () => {
    const result = await stack.up(await declareResources(() => program({ dialErrorLimit: 3 })));
    for (const n of rig.nodes) {
      for (const key of ["app.tar", "tools.tar"]) {
        // CopyToRemote's update copies only when the file's hash or the remote path changed.
        expect(result.get(`sl-${n.name}-${key}-copy`)).toBe("unchanged");
        expect(stack.copies.get(`sl-${n.name}-${key}-copy`)!.sessions).toBe(1);
        expect(stack.copies.get(`sl-${n.name}-${key}-copy`)!.state!.connection).toMatchObject({
          dialErrorLimit: 3,
        });
        const run = ok(result.get(`sl-${n.name}-${key}-import`));
        expect(parseSideLoadSummary(run.stdout)).toMatchObject({ action: "unchanged", imported: false });
      }
      const calls = await ctrCalls(n);
      expect(calls.length).toBeGreaterThan(0); // it listed the images…
      expect(imports(calls)).toEqual([]); // …and imported nothing
    }
    // Back to the first connection (the imports run once more, again importing nothing).
    await stack.up(await declareResources(() => program()));
    for (const n of rig.nodes) expect(imports(await ctrCalls(n))).toEqual([]);
  });

  test("an image removed from the node: the next run of the same tarball imports it again", async () => {
    const n2 = rig.nodes[1];
    await nodeExec(n2, ["ctr", "--address", n2.containerdSocket, "-n", "k8s.io", "images", "rm", APP]);
    const state = stack.commands.get("sl-node2-app.tar-import")!.state!;
    const r = ok(await sshRun(n2, state.update!, state.stdin));
    expect(parseSideLoadSummary(r.stdout)).toMatchObject({ action: "imported", imported: true });
    expect(imports(await ctrCalls(n2))).toHaveLength(1);
    expect((await images(n2))[APP]).toBe(rig.images.plain.digest);
  });

  test("a partial staged copy is refused before import; replacing the copy recovers", async () => {
    const n3 = rig.nodes[2];
    const name = "sl-node3-app.tar-import";
    await nodeExec(n3, ["truncate", "-s", "1000", `${STAGING}/app.tar`]);
    await nodeExec(n3, ["rm", "-f", "/var/lib/pulumi-registries/sideload/registries/app.tar.state"]);
    // As after a failed create: the engine runs the import again on the next up; the copy is unchanged.
    stack.commands.get(name)!.state = undefined;
    let result = await stack.up(await declareResources(program));
    const failed = result.get(name) as RunResult;
    expect(failed.code).toBe(65);
    expect(failed.stderr).toContain(`${STAGING}/app.tar has sha256`);
    expect(failed.stderr).toContain("pulumi up --replace <URN of sl-node3-app.tar-copy>");
    expect(imports(await ctrCalls(n3))).toEqual([]);
    // `pulumi up --replace <copy>`: the copy is made again, then the import (still not stored) runs.
    stack.copies.get("sl-node3-app.tar-copy")!.state = undefined;
    result = await stack.up(await declareResources(program));
    expect((result.get("sl-node3-app.tar-copy") as RunResult).code).toBe(0);
    expect(parseSideLoadSummary(ok(result.get(name)).stdout)).toMatchObject({ imported: true });
    expect(imports(await ctrCalls(n3))).toHaveLength(1);
  });

  test("a changed tarball: copied again and imported on every node; the unchanged one is left alone", async () => {
    await archive(rig.images.ns.ociLayout, "oci-archive", app, APP);
    const result = await stack.up(await declareResources(program));
    for (const n of rig.nodes) {
      expect((result.get(`sl-${n.name}-app.tar-copy`) as RunResult).code).toBe(0);
      expect(parseSideLoadSummary(ok(result.get(`sl-${n.name}-app.tar-import`)).stdout)).toMatchObject({
        imported: true,
      });
      expect(result.get(`sl-${n.name}-tools.tar-copy`)).toBe("unchanged");
      expect(result.get(`sl-${n.name}-tools.tar-import`)).toBe("unchanged");
      expect(imports(await ctrCalls(n))).toEqual([
        `--address ${n.containerdSocket} -n k8s.io images import ${STAGING}/app.tar`,
      ]);
      expect((await images(n))[APP]).toBe(rig.images.ns.digest);
      expect((await criStatus(n.containerdSocket, APP))?.id).toBe(rig.images.ns.configDigest);
    }
  });

  test("destroy: staged files and records removed, imported images kept", async () => {
    const result = await stack.destroy();
    for (const [name, r] of result)
      if (r !== "absent") expect([name, (r as RunResult).code]).toEqual([name, 0]);
    for (const n of rig.nodes) {
      expect(nodeStat(n, "/var/tmp/pulumi-registries")).toBeUndefined();
      expect(nodeStat(n, "/var/lib/pulumi-registries")).toBeUndefined();
      const have = await images(n);
      expect(have[APP]).toBe(rig.images.ns.digest);
      expect(have[TOOLS]).toBeDefined();
    }
  });
});

describe("SideLoad into a Docker engine (Debian's dockerd 20.10 in node2): docker load, checked by image ID", () => {
  const n2 = rig.nodes[1];
  const stack = new SimulatedStack();
  const dockerProgram = () =>
    new SideLoad("dl", {
      owner: "dockertest",
      nodes: [
        {
          name: n2.name,
          connection: {
            host: n2.ip,
            port: n2.port,
            user: "root",
            privateKey: rig.ssh.privateKey,
            hostKey: n2.hostKey,
          },
          profiles: [{ kind: "docker" as const }],
        },
      ],
      images: [{ path: tools, format: "docker-archive" }],
    });
  const docker = (args: string[]) =>
    nodeExec(n2, [
      "env",
      "-i",
      "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
      "DOCKER_CONFIG=/run/sideload-docker-cli",
      "/usr/bin/docker",
      ...args,
    ]);

  beforeAll(async () => {
    const start = await nodeDockerd(n2, "start");
    if (start.code !== 0) throw new Error(start.stderr);
  });
  afterAll(async () => {
    await docker(["image", "rm", "rig/tools:v1"]);
    await nodeDockerd(n2, "stop");
    await nodeExec(n2, ["rm", "-rf", "/etc/docker/key.json", "/run/sideload-docker-cli"]);
  });

  test("loaded once, proven by its image ID (the config digest); the same tarball again loads nothing; destroy", async () => {
    const result = await stack.up(await declareResources(dockerProgram));
    const r = ok(result.get("dl-node2-tools.tar-import"));
    expect(r.stderr).toContain("Loaded image: rig/tools:v1");
    expect(parseSideLoadSummary(r.stdout)).toMatchObject({ imported: true, refs: [TOOLS] });
    const id = await docker(["image", "inspect", "--format", "{{.Id}}", TOOLS]);
    expect(id.stdout.trim()).toBe(rig.images.alt.configDigest);
    // Run again with the same tarball: checked with docker image inspect, nothing loaded.
    const state = stack.commands.get("dl-node2-tools.tar-import")!.state!;
    const again = ok(await sshRun(n2, state.update!, state.stdin));
    expect(parseSideLoadSummary(again.stdout)).toMatchObject({ action: "unchanged", imported: false });
    expect(again.stderr).not.toContain("Loaded image");
    const gone = await stack.destroy();
    for (const [name, g] of gone)
      if (g !== "absent") expect([name, (g as RunResult).code]).toEqual([name, 0]);
    expect(nodeStat(n2, "/var/lib/pulumi-registries")).toBeUndefined();
    expect((await docker(["image", "inspect", "--format", "{{.Id}}", TOOLS])).stdout.trim()).toBe(
      rig.images.alt.configDigest,
    );
  });
});
