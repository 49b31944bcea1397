/**
 * The ServiceAccount program with a REAL kubectl binary (where one is installed; skipped otherwise) against the
 * STAND-IN API server of test/helpers/standinApiServer.ts on 127.0.0.1. This checks the program's assumptions about
 * kubectl itself, which the stand-in kubectl only replays: that kubectl accepts its exact arguments, prints nothing
 * for a missing object with --ignore-not-found, and prints the API server's 422 for a failed JSON Patch `test` as
 * the text the program treats as "changed meanwhile".
 */
import { execFile, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { SERVICE_ACCOUNT_SCRIPT } from "../../components/kubectl/serviceAccountScript.bundle";
import { parseServiceAccountSummary } from "../../components/kubectl/serviceAccountScript";
import { StandInApiServer } from "../helpers/standinApiServer";

/**
 * Every real kubectl found: the one on the PATH, and versioned siblings next to it (the Google Cloud SDK ships
 * kubectl.1.27 … kubectl.1.33 beside its dispatcher), each tested on its own.
 */
function kubectls(): { label: string; binary: string }[] {
  const which = spawnSync("/bin/sh", ["-c", "command -v kubectl"], { encoding: "utf8" });
  if (which.status !== 0) return [];
  const onPath = which.stdout.trim();
  const dir = path.dirname(fs.realpathSync(onPath));
  const siblings = fs
    .readdirSync(dir)
    .filter((f) => /^kubectl\.\d+\.\d+$/.test(f))
    .map((f) => path.join(dir, f));
  return [onPath, ...siblings].flatMap((binary) => {
    const v = spawnSync(binary, ["version", "--client", "--output", "json"], { encoding: "utf8" });
    if (v.error || v.status !== 0) return [];
    const label = (JSON.parse(v.stdout) as { clientVersion: { gitVersion: string } }).clientVersion
      .gitVersion;
    return [{ label: `${label} (${path.basename(binary)})`, binary }];
  });
}
const found = kubectls();
if (found.length === 0) {
  console.warn(
    "test/kubectl/realKubectl.test.ts: no kubectl on the PATH, skipped (the stand-in kubectl tests still run)",
  );
}

(found.length > 0 ? describe.each(found) : describe.skip.each([{ label: "none", binary: "" }]))(
  "the program with the real kubectl $label",
  ({ binary }) => {
    const api = new StandInApiServer();
    let dir: string;
    let kubeconfig: string;
    let PATH: string;
    beforeAll(async () => {
      const url = await api.start();
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "real-kubectl-"));
      // This kubectl, first on the PATH under its usual name.
      fs.mkdirSync(path.join(dir, "bin"));
      fs.symlinkSync(binary, path.join(dir, "bin", "kubectl"));
      PATH = `${path.join(dir, "bin")}:${process.env.PATH}`;
      kubeconfig = path.join(dir, "kubeconfig");
      fs.writeFileSync(
        kubeconfig,
        [
          "apiVersion: v1",
          "kind: Config",
          "clusters:",
          `- name: standin\n  cluster:\n    server: ${url}`,
          "users:",
          "- name: standin\n  user:\n    token: stand-in-token",
          "contexts:",
          "- name: standin\n  context:\n    cluster: standin\n    user: standin",
          "current-context: elsewhere",
          "",
        ].join("\n"),
      );
    });
    afterAll(async () => {
      await api.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    /** Run the program as local.Command would; asynchronously, so that the stand-in API server keeps answering. */
    function run(action: "apply" | "remove", env: Record<string, string> = {}) {
      return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        const child = execFile(
          "/bin/sh",
          ["-c", `node - ${action}`],
          {
            env: {
              PATH,
              HOME: dir,
              REGISTRY_SETUP_NAMESPACE: "team-a",
              REGISTRY_SETUP_SERVICE_ACCOUNT: "default",
              REGISTRY_SETUP_PULL_SECRETS: '["registry-credentials"]',
              REGISTRY_SETUP_OWNER: "registries",
              REGISTRY_SETUP_WAIT_SECONDS: "0",
              REGISTRY_SETUP_KUBECONFIG: kubeconfig,
              // The kubeconfig's current context is another one: the program must pass --context.
              REGISTRY_SETUP_CONTEXT: "standin",
              ...env,
            },
          },
          (error, stdout, stderr) =>
            resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
        child.stdin!.end(SERVICE_ACCOUNT_SCRIPT);
      });
    }
    const sa = (list?: string[]) => ({
      metadata: { name: "default", namespace: "team-a", resourceVersion: "41" },
      ...(list ? { imagePullSecrets: list.map((name) => ({ name })) } : {}),
    });
    const names = () => api.objects.get("team-a/default")?.imagePullSecrets?.map((e) => e.name);

    test("apply keeps others' entries and records ours; remove gives back exactly theirs", async () => {
      api.objects.set("team-a/default", sa(["theirs"]));
      const a = await run("apply");
      expect(a.stderr).toBe("");
      expect(a.code).toBe(0);
      expect(names()).toEqual(["theirs", "registry-credentials"]);
      expect(api.objects.get("team-a/default")!.metadata.annotations).toEqual({
        "pull-secrets.registry-setup.io/registries": '["registry-credentials"]',
      });
      const r = await run("remove");
      expect(r.code).toBe(0);
      expect(names()).toEqual(["theirs"]);
      expect(api.objects.get("team-a/default")!.metadata.annotations).toBeUndefined();
      expect(api.requests).toEqual(
        expect.arrayContaining(["GET /api/v1/namespaces/team-a/serviceaccounts/default"]),
      );
    });

    test("a missing ServiceAccount: --ignore-not-found prints nothing, apply fails with our message, remove succeeds", async () => {
      api.objects.delete("team-a/default");
      const a = await run("apply");
      expect(a.code).toBe(1);
      expect(a.stderr).toBe(
        "ServiceAccount team-a/default does not exist (waited 0s): create it (or its namespace), or drop it from pullSecrets.serviceAccounts.names\n",
      );
      const r = await run("remove");
      expect(r.code).toBe(0);
      expect(parseServiceAccountSummary(r.stdout)).toMatchObject({ missing: true });
    });

    test("kubectl prints a failed JSON Patch test as the text the program retries on", () => {
      api.objects.set("team-a/default", sa(["theirs"]));
      return new Promise<void>((resolve) => {
        execFile(
          "kubectl",
          [
            "--kubeconfig",
            kubeconfig,
            "--context",
            "standin",
            "--namespace",
            "team-a",
            "patch",
            "serviceaccount",
            "default",
            "--type",
            "json",
            "--patch",
            '[{"op":"test","path":"/metadata/resourceVersion","value":"0"}]',
          ],
          { env: { PATH, HOME: dir } },
          (error, _stdout, stderr) => {
            expect((error as { code?: number } | null)?.code).toBe(1);
            expect(stderr).toBe(
              "The request is invalid: the server rejected our request due to an error in our request\n",
            );
            resolve();
          },
        );
      });
    });

    test("another writer between read and write: the patch is refused, the program reads again, nothing is lost", async () => {
      api.objects.set("team-a/default", sa(["theirs"]));
      api.beforePatch = (key, n) => {
        if (n !== 1) return;
        const o = api.objects.get(key)!;
        o.imagePullSecrets = [...(o.imagePullSecrets ?? []), { name: "late" }];
        o.metadata.resourceVersion = String(Number(o.metadata.resourceVersion) + 1);
      };
      try {
        const a = await run("apply");
        expect(a.code).toBe(0);
        expect(parseServiceAccountSummary(a.stdout)).toMatchObject({ retries: 1, changed: true });
        expect(names()).toEqual(["theirs", "late", "registry-credentials"]);
      } finally {
        api.beforePatch = undefined;
      }
    });
  },
);
