/**
 * What a reviewer sees in `pulumi preview --diff`: the root program runs under mocks with two stack configs that
 * differ in one mirror URL. A preview shows, in clear, the non-secret inputs of every resource (old and new) and the
 * stack outputs that changed, line by line for multi-line strings; secrets show as `[secret]`. From exactly those
 * values: the changed hosts.toml lines appear for exactly the nodes that change, a canary password appears nowhere,
 * and a node without any credential carries no secret besides its SSH key.
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { CANARY_PASSWORD } from "../helpers/fixtures";
import {
  installMocks,
  isWireSecret,
  leaks,
  plainStrings,
  promiseOf,
  Registration,
  secretForms,
} from "../helpers/pulumiMocks";

const mocks = installMocks();

const OLD_MIRROR = "http://10.0.0.5:5000";
const NEW_MIRROR = "http://10.0.0.6:5000";

function config(quayMirror: string) {
  const values: Record<string, unknown> = {
    registries: {
      "docker.io": { mirrors: ["http://10.0.0.5:5000"] },
      "quay.io": { mirrors: [quayMirror] },
      "registry.corp.example:5443": {},
    },
    nodes: [
      {
        name: "node1",
        host: "10.0.0.11",
        hostKey: "ssh-ed25519 AAAAC3Nz1",
        profiles: [{ kind: "containerd" }],
      },
      {
        name: "node2",
        host: "10.0.0.12",
        hostKey: "ssh-ed25519 AAAAC3Nz2",
        profiles: [{ kind: "containerd" }],
      },
      { name: "build", host: "10.0.0.20", hostKey: "ssh-ed25519 AAAAC3Nz3", profiles: [{ kind: "docker" }] },
    ],
    credentials: { "registry.corp.example:5443": { username: "robot", password: CANARY_PASSWORD } },
    sshPrivateKey: "the-ssh-key",
  };
  pulumi.runtime.setAllConfig(
    Object.fromEntries(
      Object.entries(values).map(([k, v]) => [
        `registry-setup:${k}`,
        typeof v === "string" ? v : JSON.stringify(v),
      ]),
    ),
    ["registry-setup:credentials", "registry-setup:sshPrivateKey"],
  );
}

/** Run the root program; return its registrations and its stack outputs. */
async function run(quayMirror: string) {
  config(quayMirror);
  const before = mocks.registrations.length;
  let exports: Record<string, unknown> = {};
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    exports = require(path.join(__dirname, "..", "..", "index.ts")) as Record<string, unknown>;
  });
  const outputs: Record<string, unknown> = {};
  const secretOutputs: string[] = [];
  for (const [k, v] of Object.entries(exports)) {
    if (!pulumi.Output.isInstance(v)) continue;
    outputs[k] = await promiseOf(v);
    if (await pulumi.isSecret(v)) secretOutputs.push(k);
  }
  await mocks.settle();
  const regs = mocks.registrations.slice(before).map((r) => ({ ...r, name: r.name }));
  return { regs, outputs, secretOutputs };
}

/** What a preview displays in clear of a resource: its non-secret input strings, by input name. */
function displayed(r: Registration): Record<string, string[]> {
  return Object.fromEntries(Object.entries(r.inputs).map(([k, v]) => [k, plainStrings(v)]));
}

test("one changed mirror: the reviewer sees which file on which node changes, and its lines", async () => {
  const a = await run(OLD_MIRROR);
  const b = await run(NEW_MIRROR);
  expect(a.secretOutputs).toEqual([]);
  expect(b.secretOutputs).toEqual([]);

  // The stack output `files` (node -> path -> content): exactly the containerd nodes' quay.io hosts.toml changed;
  // Docker mirrors Docker Hub only, so the build host's file stays as it was.
  const filesA = a.outputs.files as Record<string, Record<string, string>>;
  const filesB = b.outputs.files as Record<string, Record<string, string>>;
  const changed: string[] = [];
  for (const node of Object.keys(filesB)) {
    for (const p of Object.keys(filesB[node]))
      if (filesA[node][p] !== filesB[node][p]) changed.push(`${node}:${p}`);
  }
  expect(changed.sort()).toEqual([
    "node1:/etc/containerd/certs.d/quay.io/hosts.toml",
    "node2:/etc/containerd/certs.d/quay.io/hosts.toml",
  ]);
  // The line diff a preview prints for that output: the old line goes, the new one comes.
  const oldLines = filesA.node1["/etc/containerd/certs.d/quay.io/hosts.toml"].split("\n");
  const newLines = filesB.node1["/etc/containerd/certs.d/quay.io/hosts.toml"].split("\n");
  expect(oldLines.filter((l) => !newLines.includes(l))).toEqual([`[host."${OLD_MIRROR}"]`]);
  expect(newLines.filter((l) => !oldLines.includes(l))).toEqual([`[host."${NEW_MIRROR}"]`]);

  // Resource inputs: only the changed nodes' files deliveries change (their stdin, in clear: no credential in it).
  const byName = (regs: Registration[]) => new Map(regs.filter((r) => r.custom).map((r) => [r.name, r]));
  const ra = byName(a.regs);
  const rb = byName(b.regs);
  const changedInputs = [...rb.keys()].filter(
    (n) => JSON.stringify(displayed(ra.get(n)!)) !== JSON.stringify(displayed(rb.get(n)!)),
  );
  expect(changedInputs.sort()).toEqual([
    "registry-setup-nodes-node1-files",
    "registry-setup-nodes-node2-files",
  ]);
  for (const n of changedInputs) expect(isWireSecret(rb.get(n)!.inputs.stdin)).toBe(false);
});

test("the canary password appears nowhere in clear; a node without a credential has no secret but its SSH key", async () => {
  const { regs, outputs } = await run(OLD_MIRROR);
  const forms = secretForms(CANARY_PASSWORD, "robot");
  for (const r of regs) {
    expect(
      [...plainStrings(r.inputs), ...plainStrings(r.outputs ?? {})].filter((s) => leaks(s, forms)),
    ).toEqual([]);
  }
  expect(leaks(JSON.stringify(outputs), forms)).toBe(false);
  // The CRI auth block (in config.toml) is the only place the credential goes: each containerd node's services part.
  const secretStdin = regs.filter((r) => r.custom && isWireSecret(r.inputs.stdin)).map((r) => r.name);
  expect(secretStdin.sort()).toEqual([
    "registry-setup-nodes-node1-services",
    "registry-setup-nodes-node2-services",
  ]);
  // The build host (Docker cannot carry credentials): only the SSH key inside its connection is secret.
  for (const r of regs.filter((x) => x.name.startsWith("registry-setup-nodes-build"))) {
    const secretInputs = Object.entries(r.inputs).filter(([, v]) =>
      JSON.stringify(v).includes("4dabf18193072939515e22adb298388d"),
    );
    expect(secretInputs.map(([k]) => k)).toEqual(r.custom ? ["connection"] : []);
  }
  expect(JSON.stringify(outputs.files)).toContain("(secret: holds a credential or key; mode 0600)");
});
