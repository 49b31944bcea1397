/**
 * The give-back program of a node class's part (components/kubectl/daemonSetScript.ts): its decisions against a
 * scripted kubectl, and the bundled text run exactly as the `local.Command` runs it (`node - give-back` through the
 * shell, the program on stdin, the parameters in the environment) against a STAND-IN kubectl
 * (test/standins/daemonset/kubectl: no API server can run here).
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  DaemonSetSummary,
  KubectlResult,
  parseDaemonSetSummary,
  rolledOut,
  runDaemonSetScript,
  ScriptIo,
} from "../../components/kubectl/daemonSetScript";
import { DAEMONSET_SCRIPT } from "../../components/kubectl/daemonSetScript.bundle";
import { GIVE_BACK_COMMANDS } from "../../components/transport/daemonset";
const BUNDLE_SCRIPT = path.join(__dirname, "..", "..", "scripts", "bundleDaemonSetScript.ts");

const ENV = {
  REGISTRY_SETUP_NAMESPACE: "registry-setup-nodes",
  REGISTRY_SETUP_DAEMONSETS: JSON.stringify(["registries-workers-services"]),
  REGISTRY_SETUP_WAIT_SECONDS: "10",
};

/** A scripted world: each kubectl call is answered by `answer`; the clock advances only when the program sleeps. */
function world(answer: (args: string[], n: number) => KubectlResult) {
  const calls: string[][] = [];
  const out: string[] = [];
  const err: string[] = [];
  let clock = 0;
  const io: ScriptIo = {
    kubectl(args) {
      calls.push(args);
      return answer(args, calls.length);
    },
    sleep(ms) {
      clock += ms;
    },
    now: () => clock,
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  };
  return { io, calls, out, err, elapsed: () => clock };
}

const ok = (stdout = ""): KubectlResult => ({ code: 0, stdout, stderr: "" });
const verbOf = (args: string[]) => args.slice(args.indexOf("registry-setup-nodes") + 1).join(" ");

function ds(
  generation: number,
  observed: number,
  desired: number,
  updated: number,
  available: number,
): string {
  return JSON.stringify({
    metadata: { name: "registries-workers-services", generation },
    status: {
      observedGeneration: observed,
      desiredNumberScheduled: desired,
      updatedNumberScheduled: updated,
      numberAvailable: available,
    },
  });
}

describe("give-back, decisions", () => {
  test("switches the DaemonSet to destroy mode, waits for the rollout, then deletes it", () => {
    const statuses = [ds(3, 2, 3, 0, 3), ds(3, 3, 3, 1, 2), ds(3, 3, 3, 3, 2), ds(3, 3, 3, 3, 3)];
    const w = world((args) => {
      const v = verbOf(args);
      if (v.startsWith("patch")) return ok("daemonset.apps/registries-workers-services patched\n");
      if (v.startsWith("get daemonset")) return ok(statuses.shift()!);
      if (v.startsWith("delete")) return ok('daemonset.apps "registries-workers-services" deleted\n');
      throw new Error(`unexpected ${v}`);
    });
    expect(runDaemonSetScript("give-back", ENV, w.io)).toBe(0);
    expect(w.calls.map(verbOf)).toEqual([
      `patch daemonset registries-workers-services --type merge --patch {"spec":{"template":{"metadata":{"annotations":{"registry-setup.io/mode":"destroy"}}}}}`,
      "get daemonset registries-workers-services --output json --ignore-not-found",
      "get daemonset registries-workers-services --output json --ignore-not-found",
      "get daemonset registries-workers-services --output json --ignore-not-found",
      "get daemonset registries-workers-services --output json --ignore-not-found",
      "delete daemonset registries-workers-services --ignore-not-found",
    ]);
    expect(w.calls[0].slice(0, 4)).toEqual([
      "--request-timeout",
      "30s",
      "--namespace",
      "registry-setup-nodes",
    ]);
    expect(parseDaemonSetSummary(w.out.join("\n"))).toEqual({
      action: "give-back",
      namespace: "registry-setup-nodes",
      daemonSets: ["registries-workers-services"],
      missing: [],
      deleted: ["registries-workers-services"],
      nodes: { "registries-workers-services": 3 },
      pending: [],
    } satisfies DaemonSetSummary);
    expect(w.elapsed()).toBe(6000);
  });

  test("a node that is down: waits as long as asked, names it, fails, and leaves the DaemonSet in destroy mode", () => {
    const pods = {
      items: [
        {
          metadata: { name: "p1", annotations: { "registry-setup.io/mode": "destroy" } },
          spec: { nodeName: "node-1" },
          status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] },
        },
        {
          metadata: { name: "p2", annotations: { "registry-setup.io/mode": "apply" } },
          spec: { nodeName: "node-2" },
          status: { phase: "Running", conditions: [{ type: "Ready", status: "False" }] },
        },
        {
          metadata: { name: "p3", annotations: { "registry-setup.io/mode": "destroy" } },
          spec: { nodeName: "node-3" },
          status: {
            phase: "Pending",
            conditions: [{ type: "Ready", status: "False" }],
            initContainerStatuses: [{ state: { waiting: { reason: "CrashLoopBackOff" } } }],
          },
        },
      ],
    };
    const w = world((args) => {
      const v = verbOf(args);
      if (v.startsWith("patch")) return ok();
      if (v.startsWith("get daemonset")) return ok(ds(2, 2, 3, 2, 1));
      if (v.startsWith("get pods")) return ok(JSON.stringify(pods));
      throw new Error(`unexpected ${v}`);
    });
    expect(runDaemonSetScript("give-back", ENV, w.io)).toBe(1);
    expect(w.elapsed()).toBe(10_000);
    expect(w.calls.map(verbOf).filter((v) => v.startsWith("delete"))).toEqual([]);
    expect(w.calls.map(verbOf).at(-1)).toBe(
      "get pods --selector app.kubernetes.io/instance=registries-workers-services --output json",
    );
    expect(parseDaemonSetSummary(w.out.join("\n"))!.pending).toEqual([
      "registries-workers-services: node-2 (still the apply Pod p2: the node is down or its Pod was not replaced yet)",
      "registries-workers-services: node-3 (destroy not finished: CrashLoopBackOff)",
    ]);
    const message = w.err.join("\n");
    expect(message).toContain("not every node was given back within 10s");
    expect(message).toContain("(registries-workers-services: 2 of 3 nodes run the destroy Pod)");
    expect(message).toContain(
      "a node that is down is given back when it runs its Pod again; run pulumi destroy again",
    );
    expect(message).toContain("kubectl delete node <name>");
  });

  test("a DaemonSet deleted by hand: nothing can give its nodes back; said, and the destroy goes on", () => {
    const w = world((args) =>
      verbOf(args).startsWith("patch")
        ? {
            code: 1,
            stdout: "",
            stderr: 'Error from server (NotFound): daemonsets.apps "registries-workers-services" not found\n',
          }
        : ok(),
    );
    expect(runDaemonSetScript("give-back", ENV, w.io)).toBe(0);
    expect(w.calls).toHaveLength(1);
    expect(parseDaemonSetSummary(w.out.join("\n"))).toMatchObject({
      missing: ["registries-workers-services"],
      deleted: [],
    });
    expect(w.err.join("\n")).toContain("its nodes cannot be given back from the cluster");
  });

  test("any other kubectl failure fails the delete (and keeps the command in the stack)", () => {
    const w = world(() => ({
      code: 1,
      stdout: "",
      stderr: "Unable to connect to the server: dial tcp: i/o timeout",
    }));
    expect(runDaemonSetScript("give-back", ENV, w.io)).toBe(1);
    expect(w.err.join("\n")).toContain(
      "kubectl patch daemonset registry-setup-nodes/registries-workers-services failed",
    );
  });

  test("verify: kubectl must be there and may patch and delete DaemonSets", () => {
    const good = world(() => ok("yes\n"));
    expect(runDaemonSetScript("verify", ENV, good.io)).toBe(0);
    expect(good.calls.map(verbOf)).toEqual(["auth can-i patch daemonsets", "auth can-i delete daemonsets"]);
    const kubeconfig = { ...ENV, REGISTRY_SETUP_KUBECONFIG: "/k/config", REGISTRY_SETUP_CONTEXT: "prod" };
    const ctx = world(() => ok("yes\n"));
    runDaemonSetScript("verify", kubeconfig, ctx.io);
    expect(ctx.calls[0].slice(0, 4)).toEqual(["--kubeconfig", "/k/config", "--context", "prod"]);

    const denied = world((args) =>
      verbOf(args).includes("delete") ? { code: 1, stdout: "no\n", stderr: "" } : ok("yes\n"),
    );
    expect(runDaemonSetScript("verify", ENV, denied.io)).toBe(1);
    expect(denied.err.join("")).toContain(
      "kubectl may not delete DaemonSets in namespace registry-setup-nodes",
    );

    const none = world(() => ({
      code: 127,
      stdout: "",
      stderr: "kubectl could not be run (ENOENT): install kubectl",
    }));
    expect(runDaemonSetScript("verify", ENV, none.io)).toBe(1);
    expect(none.err.join("")).toBe("kubectl could not be run (ENOENT): install kubectl");
  });

  test.each([
    [undefined, ENV, "usage: node - verify|give-back"],
    ["give-back", { REGISTRY_SETUP_NAMESPACE: "x" }, "missing environment: REGISTRY_SETUP_DAEMONSETS"],
    ["give-back", { ...ENV, REGISTRY_SETUP_DAEMONSETS: "[]" }, "must be a JSON list of DaemonSet names"],
    ["give-back", { ...ENV, REGISTRY_SETUP_WAIT_SECONDS: "-1" }, "must be a whole number of seconds"],
  ])("bad parameters (%s): exit 2", (action, env, message) => {
    const w = world(() => ok());
    expect(runDaemonSetScript(action, env, w.io)).toBe(2);
    expect(w.err.join("")).toContain(message);
    expect(w.calls).toEqual([]);
  });

  test.each([
    [
      "a new generation not observed yet",
      { metadata: { generation: 2 }, status: { observedGeneration: 1 } },
      false,
    ],
    [
      "nodes without the new Pod",
      { status: { desiredNumberScheduled: 2, updatedNumberScheduled: 1, numberAvailable: 2 } },
      false,
    ],
    [
      "updated but not available",
      { status: { desiredNumberScheduled: 2, updatedNumberScheduled: 2, numberAvailable: 1 } },
      false,
    ],
    [
      "complete",
      { status: { desiredNumberScheduled: 2, updatedNumberScheduled: 2, numberAvailable: 2 } },
      true,
    ],
    ["no node selected", { status: {} }, true],
  ])("rollout complete as kubectl judges it: %s", (_, object, done) => {
    expect(rolledOut(object).done).toBe(done);
  });
});

describe("the bundled program, run as the local.Command runs it", () => {
  test("the committed bundle is what scripts/bundleDaemonSetScript.ts writes now", () => {
    // In a child process: prettier (which formats the module) loads its plugins with dynamic imports.
    const r = spawnSync(
      process.execPath,
      [require.resolve("ts-node/dist/bin"), "--transpile-only", BUNDLE_SCRIPT, "--check"],
      { encoding: "utf8" },
    );
    expect({ code: r.status, out: r.stdout.trim(), err: r.stderr }).toEqual({
      code: 0,
      out: "up to date",
      err: "",
    });
  });

  const STANDIN = path.join(__dirname, "..", "standins", "daemonset");
  const dsObject = (name: string) => ({
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name, namespace: "registry-setup-nodes", generation: 1 },
    spec: { template: { metadata: { annotations: { "registry-setup.io/mode": "apply" } } } },
  });

  async function run(command: string, state: Record<string, unknown>, env: Record<string, string>) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ds-standin-"));
    const file = path.join(dir, "state.json");
    fs.writeFileSync(file, JSON.stringify(state));
    try {
      // What @pulumi/command's local.Command does: `/bin/sh -c <command>`, stdin piped, the environment added.
      const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn("/bin/sh", ["-c", command], {
          env: {
            ...process.env,
            ...env,
            PATH: `${STANDIN}:${process.env.PATH}`,
            STANDIN_KUBECTL_STATE: file,
          },
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (b) => (stdout += b));
        child.stderr.on("data", (b) => (stderr += b));
        child.on("close", (code) => resolve({ code, stdout, stderr }));
        child.stdin.end(DAEMONSET_SCRIPT);
      });
      return { ...r, state: JSON.parse(fs.readFileSync(file, "utf8")) };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  test("give-back: every node up: switched, rolled, deleted", async () => {
    const r = await run(
      GIVE_BACK_COMMANDS.delete,
      {
        daemonSets: {
          "registry-setup-nodes/registries-workers-services": dsObject("registries-workers-services"),
        },
        nodes: [
          { name: "node-1", up: true },
          { name: "node-2", up: true },
        ],
      },
      ENV,
    );
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(parseDaemonSetSummary(r.stdout)).toMatchObject({
      nodes: { "registries-workers-services": 2 },
      deleted: ["registries-workers-services"],
    });
    expect(r.state.daemonSets).toEqual({});
  });

  test("give-back: a node down: fails after the wait, names it, the DaemonSet stays in destroy mode", async () => {
    const r = await run(
      GIVE_BACK_COMMANDS.delete,
      {
        daemonSets: {
          "registry-setup-nodes/registries-workers-services": dsObject("registries-workers-services"),
        },
        nodes: [
          { name: "node-1", up: true },
          { name: "node-2", up: false },
        ],
      },
      { ...ENV, REGISTRY_SETUP_WAIT_SECONDS: "1" },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("registries-workers-services: node-2 (still the apply Pod");
    const left = r.state.daemonSets["registry-setup-nodes/registries-workers-services"];
    expect(left.spec.template.metadata.annotations["registry-setup.io/mode"]).toBe("destroy");
    expect(left.metadata.generation).toBe(2);
  });

  test("verify: found kubectl, allowed; a forbidden verb fails the create", async () => {
    const good = await run(GIVE_BACK_COMMANDS.create, {}, ENV);
    expect({ code: good.code, stderr: good.stderr }).toEqual({ code: 0, stderr: "" });
    const bad = await run(GIVE_BACK_COMMANDS.create, { forbid: ["delete"] }, ENV);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("kubectl may not delete DaemonSets");
  });
});
