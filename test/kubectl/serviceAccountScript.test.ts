/**
 * The ServiceAccount program end to end, exactly as each ServiceAccount's `local.Command` runs it: `/bin/sh -c
 * "node - apply"` (or `remove`) with the bundled script on stdin and the parameters in the environment, against
 * the STAND-IN kubectl in test/standins/bin (no API server can run here; see that file for what it replays).
 *
 * The table: the list a ServiceAccount has before us → the list after `apply` → the list after `remove`, with
 * what other writers do in between.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { SERVICE_ACCOUNT_SCRIPT } from "../../components/kubectl/serviceAccountScript.bundle";
import { MAX_ATTEMPTS, parseServiceAccountSummary } from "../../components/kubectl/serviceAccountScript";
import { addedAnnotationKey } from "../../components/kubernetes/imagePullSecrets";

const STANDIN_BIN = path.join(__dirname, "..", "standins", "bin");
const OURS = "registry-credentials";
const OWNER = "registries";
const NS = "team-a";
const SA = "default";

interface Sa {
  apiVersion: "v1";
  kind: "ServiceAccount";
  metadata: {
    name: string;
    namespace: string;
    resourceVersion: string;
    annotations?: Record<string, string>;
  };
  imagePullSecrets?: { name?: string }[];
}
interface Interference {
  verb: "get" | "patch";
  call: number;
  append?: string[];
  remove?: string[];
  create?: Sa;
  delete?: boolean;
}
interface State {
  serviceAccounts: Record<string, Sa>;
  interference?: Interference[];
  forbid?: string[];
  calls?: string[][];
}

const sa = (list: (string | undefined)[] | undefined, annotations?: Record<string, string>): Sa => ({
  apiVersion: "v1",
  kind: "ServiceAccount",
  metadata: { name: SA, namespace: NS, resourceVersion: "100", ...(annotations ? { annotations } : {}) },
  ...(list === undefined ? {} : { imagePullSecrets: list.map((n) => (n === undefined ? {} : { name: n })) }),
});

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "sa-script-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let seq = 0;
/** A fresh stand-in cluster holding `sas` (keyed `<ns>/<name>`). */
function cluster(state: State): string {
  const file = path.join(dir, `state-${++seq}.json`);
  fs.writeFileSync(file, JSON.stringify(state));
  return file;
}
const read = (file: string): State => JSON.parse(fs.readFileSync(file, "utf8")) as State;
const listOf = (file: string, key = `${NS}/${SA}`): (string | undefined)[] | undefined =>
  read(file).serviceAccounts[key]?.imagePullSecrets?.map((e) => e.name);
const calls = (file: string, verb: string) => (read(file).calls ?? []).filter((c) => c.includes(verb));

/** Run the program as the local.Command would. */
function run(
  file: string,
  action: "apply" | "remove",
  env: Record<string, string> = {},
): { code: number; stdout: string; stderr: string } {
  const r = spawnSync("/bin/sh", ["-c", `node - ${action}`], {
    input: SERVICE_ACCOUNT_SCRIPT,
    encoding: "utf8",
    env: {
      PATH: `${STANDIN_BIN}:${process.env.PATH}`,
      HOME: dir,
      STANDIN_KUBECTL_STATE: file,
      REGISTRY_SETUP_NAMESPACE: NS,
      REGISTRY_SETUP_SERVICE_ACCOUNT: SA,
      REGISTRY_SETUP_PULL_SECRETS: JSON.stringify([OURS]),
      REGISTRY_SETUP_OWNER: OWNER,
      REGISTRY_SETUP_WAIT_SECONDS: "0",
      ...env,
    },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * name; the ServiceAccount before us; what others do during apply (interference); what others do between apply
 * and remove; the list after apply; the list after remove.
 */
type Row = [
  string,
  Sa,
  Interference[],
  { append?: string[]; remove?: string[] },
  (string | undefined)[] | undefined,
  (string | undefined)[] | undefined,
];
const TABLE: Row[] = [
  ["no imagePullSecrets field", sa(undefined), [], {}, [OURS], undefined],
  ["others' entries", sa(["a", "b"]), [], {}, ["a", "b", OURS], ["a", "b"]],
  [
    "ours already there (others put it): not written, not ours to remove",
    sa(["a", OURS]),
    [],
    {},
    ["a", OURS],
    ["a", OURS],
  ],
  ["duplicates of others' entries stay", sa(["a", "a", "b"]), [], {}, ["a", "a", "b", OURS], ["a", "a", "b"]],
  ["our name twice, put by others: untouched", sa([OURS, OURS]), [], {}, [OURS, OURS], [OURS, OURS]],
  ["an entry without a name stays", sa([undefined, "a"]), [], {}, [undefined, "a", OURS], [undefined, "a"]],
  [
    "another writer appends between our read and our write: refused, re-read, kept",
    sa(["a"]),
    [{ verb: "patch", call: 1, append: ["late"] }],
    {},
    ["a", "late", OURS],
    ["a", "late"],
  ],
  [
    "others add an entry after us: kept on removal",
    sa(["a"]),
    [],
    { append: ["late"] },
    ["a", OURS],
    ["a", "late"],
  ],
  [
    "others remove one of theirs after us: stays removed",
    sa(["a", "b"]),
    [],
    { remove: ["a"] },
    ["a", "b", OURS],
    ["b"],
  ],
  [
    "others add our Secret's name again after us: theirs stays",
    sa(["a"]),
    [],
    { append: [OURS] },
    ["a", OURS],
    ["a", OURS],
  ],
  ["others remove our entry: nothing left to remove", sa(["a"]), [], { remove: [OURS] }, ["a", OURS], ["a"]],
];

describe("the ServiceAccount program against the stand-in kubectl", () => {
  test.each(TABLE)("%s", (_name, before, during, between, applied, removed) => {
    const file = cluster({ serviceAccounts: { [`${NS}/${SA}`]: before }, interference: during });
    const a = run(file, "apply");
    expect(a).toMatchObject({ code: 0, stderr: "" });
    expect(listOf(file)).toEqual(applied);
    const summary = parseServiceAccountSummary(a.stdout)!;
    expect(summary.imagePullSecrets).toEqual(applied?.map((n) => n ?? "") ?? []);
    expect(summary.retries).toBe(during.length);

    // What others do between our apply and our removal.
    const s = read(file);
    const live = s.serviceAccounts[`${NS}/${SA}`];
    let list = live.imagePullSecrets ?? [];
    for (const n of between.remove ?? []) {
      const at = list.findIndex((e) => e.name === n);
      list = [...list.slice(0, at), ...list.slice(at + 1)];
    }
    live.imagePullSecrets = [...list, ...(between.append ?? []).map((name) => ({ name }))];
    live.metadata.resourceVersion = String(Number(live.metadata.resourceVersion) + 1);
    fs.writeFileSync(file, JSON.stringify(s));

    const r = run(file, "remove");
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(listOf(file)).toEqual(removed);
    // Our annotation is gone; nothing else of the object changed but the list and the version.
    const after = read(file).serviceAccounts[`${NS}/${SA}`];
    expect(after.metadata.annotations?.[addedAnnotationKey(OWNER)]).toBeUndefined();
    expect(after.metadata).toMatchObject({ name: SA, namespace: NS });
  });

  test("apply then remove with nobody else gives back exactly the object's list, entry for entry", () => {
    for (const [, before, during, between] of TABLE) {
      if (during.length > 0 || between.append || between.remove) continue;
      const file = cluster({ serviceAccounts: { [`${NS}/${SA}`]: before } });
      expect(run(file, "apply").code).toBe(0);
      expect(run(file, "remove").code).toBe(0);
      expect(read(file).serviceAccounts[`${NS}/${SA}`].imagePullSecrets).toEqual(before.imagePullSecrets);
      expect(read(file).serviceAccounts[`${NS}/${SA}`].metadata.annotations).toEqual(
        before.metadata.annotations,
      );
    }
  });

  test("what apply writes: one compare-and-swap patch with the list and the record of what we added", () => {
    const file = cluster({ serviceAccounts: { [`${NS}/${SA}`]: sa(["a"], { "other/keep": "x" }) } });
    run(file, "apply");
    const [patch] = calls(file, "patch");
    const ops = JSON.parse(patch[patch.indexOf("--patch") + 1]) as unknown[];
    expect(ops).toEqual([
      { op: "test", path: "/metadata/resourceVersion", value: "100" },
      { op: "test", path: "/imagePullSecrets", value: [{ name: "a" }] },
      { op: "replace", path: "/imagePullSecrets", value: [{ name: "a" }, { name: OURS }] },
      {
        op: "add",
        path: `/metadata/annotations/pull-secrets.registry-setup.io~1${OWNER}`,
        value: JSON.stringify([OURS]),
      },
    ]);
    expect(read(file).serviceAccounts[`${NS}/${SA}`].metadata.annotations).toEqual({
      "other/keep": "x",
      [addedAnnotationKey(OWNER)]: `["${OURS}"]`,
    });
  });

  test("applying again writes nothing (one get, no patch)", () => {
    const file = cluster({ serviceAccounts: { [`${NS}/${SA}`]: sa(["a"]) } });
    run(file, "apply");
    const again = run(file, "apply");
    expect(again.code).toBe(0);
    expect(parseServiceAccountSummary(again.stdout)).toMatchObject({ changed: false, recorded: [OURS] });
    expect(calls(file, "patch")).toHaveLength(1);
    expect(calls(file, "get")).toHaveLength(2);
  });

  test("a renamed Secret: the next apply takes the old name out and puts the new one in", () => {
    const file = cluster({ serviceAccounts: { [`${NS}/${SA}`]: sa(["a"]) } });
    run(file, "apply", { REGISTRY_SETUP_PULL_SECRETS: '["old-name"]' });
    expect(listOf(file)).toEqual(["a", "old-name"]);
    run(file, "apply", { REGISTRY_SETUP_PULL_SECRETS: '["new-name"]' });
    expect(listOf(file)).toEqual(["a", "new-name"]);
    run(file, "remove");
    expect(listOf(file)).toEqual(["a"]);
  });

  test("two owners on one ServiceAccount: each takes out only what it added", () => {
    const file = cluster({ serviceAccounts: { [`${NS}/${SA}`]: sa(["a"]) } });
    run(file, "apply", { REGISTRY_SETUP_OWNER: "stack-a", REGISTRY_SETUP_PULL_SECRETS: '["x"]' });
    run(file, "apply", { REGISTRY_SETUP_OWNER: "stack-b", REGISTRY_SETUP_PULL_SECRETS: '["y"]' });
    expect(listOf(file)).toEqual(["a", "x", "y"]);
    run(file, "remove", { REGISTRY_SETUP_OWNER: "stack-a" });
    expect(listOf(file)).toEqual(["a", "y"]);
    expect(read(file).serviceAccounts[`${NS}/${SA}`].metadata.annotations).toEqual({
      [addedAnnotationKey("stack-b")]: '["y"]',
    });
    run(file, "remove", { REGISTRY_SETUP_OWNER: "stack-b" });
    expect(listOf(file)).toEqual(["a"]);
  });
});

describe("a missing ServiceAccount", () => {
  test("apply waits for it, then fails without creating it", () => {
    const file = cluster({ serviceAccounts: {} });
    const started = Date.now();
    const r = run(file, "apply", { REGISTRY_SETUP_WAIT_SECONDS: "2" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `ServiceAccount ${NS}/${SA} does not exist (waited 2s): create it (or its namespace), or drop it from pullSecrets.serviceAccounts.names\n`,
    );
    expect(read(file).serviceAccounts).toEqual({});
    expect(calls(file, "patch")).toHaveLength(0);
  });

  test("apply finds it once the controller manager created it (the default ServiceAccount of a new namespace)", () => {
    const file = cluster({
      serviceAccounts: {},
      interference: [{ verb: "get", call: 3, create: sa(undefined) }],
    });
    const r = run(file, "apply", { REGISTRY_SETUP_WAIT_SECONDS: "30" });
    expect(r.code).toBe(0);
    expect(listOf(file)).toEqual([OURS]);
    expect(calls(file, "get")).toHaveLength(3);
  });

  test("remove of a ServiceAccount that is gone succeeds and says so", () => {
    const file = cluster({ serviceAccounts: {} });
    const r = run(file, "remove");
    expect(r.code).toBe(0);
    expect(parseServiceAccountSummary(r.stdout)).toMatchObject({ missing: true, changed: false });
  });

  test("the ServiceAccount deleted between our read and our write: the patch fails with NotFound", () => {
    const file = cluster({
      serviceAccounts: { [`${NS}/${SA}`]: sa(["a"]) },
      interference: [{ verb: "patch", call: 1, delete: true }],
    });
    const r = run(file, "apply");
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `kubectl patch serviceaccount ${NS}/${SA} failed: Error from server (NotFound): serviceaccounts "${SA}" not found\n`,
    );
  });
});

describe("failures", () => {
  test("a writer that never stops: gives up after MAX_ATTEMPTS refused patches, having changed nothing", () => {
    const file = cluster({
      serviceAccounts: { [`${NS}/${SA}`]: sa(["a"]) },
      interference: Array.from({ length: MAX_ATTEMPTS }, (_, i) => ({
        verb: "patch" as const,
        call: i + 1,
        append: [`w${i}`],
      })),
    });
    const r = run(file, "apply");
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `kubectl patch serviceaccount ${NS}/${SA} failed (the ServiceAccount kept changing: ${MAX_ATTEMPTS} attempts): The request is invalid: the server rejected our request due to an error in our request\n`,
    );
    expect(calls(file, "patch")).toHaveLength(MAX_ATTEMPTS);
    expect(listOf(file)).not.toContain(OURS);
  });

  test("RBAC refuses the patch: fails at once with kubectl's message, no retry", () => {
    const file = cluster({ serviceAccounts: { [`${NS}/${SA}`]: sa(["a"]) }, forbid: ["patch"] });
    const r = run(file, "apply");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^kubectl patch serviceaccount team-a\/default failed: Error from server \(Forbidden\)/,
    );
    expect(calls(file, "patch")).toHaveLength(1);
  });

  test("RBAC refuses the read: fails with kubectl's message", () => {
    const file = cluster({ serviceAccounts: { [`${NS}/${SA}`]: sa(["a"]) }, forbid: ["get"] });
    const r = run(file, "apply");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^kubectl get serviceaccount team-a\/default failed: Error from server \(Forbidden\)/,
    );
  });

  test("an annotation someone edited into garbage: refuses to guess what is ours", () => {
    const file = cluster({
      serviceAccounts: { [`${NS}/${SA}`]: sa(["a", OURS], { [addedAnnotationKey(OWNER)]: "oops" }) },
    });
    const r = run(file, "remove");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`annotation ${addedAnnotationKey(OWNER)} must be a JSON list of Secret names`);
    expect(listOf(file)).toEqual(["a", OURS]);
  });

  test.each([
    [{ REGISTRY_SETUP_NAMESPACE: "" }, "missing environment: REGISTRY_SETUP_NAMESPACE\n"],
    [
      { REGISTRY_SETUP_PULL_SECRETS: "x" },
      "REGISTRY_SETUP_PULL_SECRETS must be a JSON list of Secret names\n",
    ],
    [
      { REGISTRY_SETUP_WAIT_SECONDS: "-1" },
      "REGISTRY_SETUP_WAIT_SECONDS must be a whole number of seconds\n",
    ],
  ])("bad parameters %j: exit 2, nothing run", (env, message) => {
    const file = cluster({ serviceAccounts: {} });
    expect(run(file, "apply", env)).toEqual({ code: 2, stdout: "", stderr: message });
    expect(read(file).calls ?? []).toEqual([]);
  });
});

describe("kubectl's own settings", () => {
  test("kubeconfig and context reach every kubectl call; kubectl's defaults otherwise", () => {
    const file = cluster({ serviceAccounts: { [`${NS}/${SA}`]: sa(["a"]) } });
    run(file, "apply", { REGISTRY_SETUP_KUBECONFIG: "/etc/kube/ops.yaml", REGISTRY_SETUP_CONTEXT: "prod" });
    for (const c of read(file).calls!) {
      expect(c.slice(0, 8)).toEqual([
        "--kubeconfig",
        "/etc/kube/ops.yaml",
        "--context",
        "prod",
        "--request-timeout",
        "30s",
        "--namespace",
        NS,
      ]);
    }
    const plain = cluster({ serviceAccounts: { [`${NS}/${SA}`]: sa(["a"]) } });
    run(plain, "remove");
    expect(read(plain).calls![0].slice(0, 4)).toEqual(["--request-timeout", "30s", "--namespace", NS]);
  });

  test("kubectl missing from the PATH: a clear message", () => {
    const file = cluster({ serviceAccounts: {} });
    // A PATH with node and nothing else (this machine may have a real kubectl next to node).
    const bin = fs.mkdtempSync(path.join(dir, "bin-"));
    fs.symlinkSync(process.execPath, path.join(bin, "node"));
    const r = spawnSync("/bin/sh", ["-c", "node - apply"], {
      input: SERVICE_ACCOUNT_SCRIPT,
      encoding: "utf8",
      env: {
        PATH: bin,
        REGISTRY_SETUP_NAMESPACE: NS,
        REGISTRY_SETUP_SERVICE_ACCOUNT: SA,
        REGISTRY_SETUP_PULL_SECRETS: `["${OURS}"]`,
        REGISTRY_SETUP_OWNER: OWNER,
        STANDIN_KUBECTL_STATE: file,
      },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `kubectl get serviceaccount ${NS}/${SA} failed: kubectl is not on the PATH of the machine that runs Pulumi\n`,
    );
  });
});
