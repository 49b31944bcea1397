/**
 * The node classes' Kubernetes objects (pure builders) and the agent script they carry: valid against the
 * Kubernetes OpenAPI schema, the rollout and privilege settings the design relies on, and the agent's termination
 * message under the shells a node agent image has (BusyBox ash) and a Debian node has (dash).
 */
import { spawnSync } from "child_process";
import * as YAML from "yaml";
import {
  agentCommand,
  AGENT_SCRIPT,
  applyDaemonSet,
  checkDaemonSet,
  CHECK_READINESS_COMMAND,
  DEFAULT_AGENT_IMAGE,
  MODE_ANNOTATION,
  nodeAgentNamespaceObject,
  NodeClassSpec,
  payloadObject,
  PayloadRef,
} from "../../components/kubernetes";
import { MODE_ANNOTATION as SCRIPT_MODE_ANNOTATION } from "../../components/kubectl/daemonSetScript";
import { SUMMARY_PREFIX } from "../../components/node";
import { expectGolden } from "../helpers/golden";
import { expectValidK8s } from "../helpers/k8sSchema";

const SPEC: NodeClassSpec = {
  namespace: "registry-setup-nodes",
  owner: "registries",
  className: "workers",
  nodeSelector: { "node-role.kubernetes.io/worker": "" },
  maxUnavailable: 2,
  image: DEFAULT_AGENT_IMAGE,
  imagePullPolicy: "IfNotPresent",
  tolerateAllTaints: true,
  checkSeconds: 600,
};
const FILES: PayloadRef = {
  part: "files",
  name: "registries-workers-files",
  secret: false,
  revision: "8d2c6d0e-1111-4a4a-9b9b-000000000001",
};
const SERVICES: PayloadRef = {
  part: "services",
  name: "registries-workers-services",
  secret: true,
  revision: "8d2c6d0e-2222-4a4a-9b9b-000000000002",
};

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe("node class objects", () => {
  const objects = [
    nodeAgentNamespaceObject(SPEC.namespace),
    payloadObject(SPEC, "files", "#!/bin/sh\necho files\n", false),
    payloadObject(SPEC, "services", "#!/bin/sh\necho services\n", true),
    applyDaemonSet(SPEC, FILES),
    applyDaemonSet(SPEC, SERVICES),
    checkDaemonSet(SPEC, [FILES, SERVICES]),
    applyDaemonSet(
      {
        ...SPEC,
        tolerateAllTaints: false,
        priorityClassName: "system-node-critical",
        rolloutTimeoutSeconds: 900,
      },
      SERVICES,
      "destroy",
    ),
  ];

  test("every object is valid against the Kubernetes OpenAPI schema (no unknown field)", () => {
    for (const o of objects) expectValidK8s(o);
  });

  test("golden: what a class of two parts declares", () => {
    expectGolden(
      "nodeClass/objects.yaml",
      objects
        .slice(0, 6)
        .map((o) => YAML.stringify(o, { aliasDuplicateObjects: false }))
        .join("---\n"),
    );
  });

  test("payloads: immutable; a Secret (base64) when the part holds a credential, else a ConfigMap", () => {
    const [, files, services] = objects as Obj[];
    expect(files).toMatchObject({
      kind: "ConfigMap",
      immutable: true,
      data: { "node.sh": "#!/bin/sh\necho files\n" },
    });
    expect(services).toMatchObject({ kind: "Secret", type: "Opaque", immutable: true });
    expect(Buffer.from(services.data["node.sh"], "base64").toString()).toBe("#!/bin/sh\necho services\n");
    expect(files.metadata.name).toBe("registries-workers-files");
  });

  test("rollout: files parts to every node at once, services parts maxUnavailable at a time, the checker at once", () => {
    const [, , , files, services, check] = objects as Obj[];
    expect(files.spec.updateStrategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxUnavailable: "100%" },
    });
    expect(services.spec.updateStrategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxUnavailable: 2 },
    });
    expect(check.spec.updateStrategy.rollingUpdate.maxUnavailable).toBe("100%");
    // pulumi up waits for the apply DaemonSets, never for the checker (drift on one node must not block an apply).
    expect(check.metadata.annotations).toEqual({ "pulumi.com/skipAwait": "true" });
    expect(files.metadata.annotations).toBeUndefined();
    expect((objects[6] as Obj).metadata.annotations).toEqual({ "pulumi.com/timeoutSeconds": "900" });
  });

  test("the Pod template carries the mode and each payload's identity (a new payload rolls the Pods)", () => {
    const [, , , files, , check] = objects as Obj[];
    expect(files.spec.template.metadata.annotations).toEqual({
      [MODE_ANNOTATION]: "apply",
      "registry-setup.io/payload-files": FILES.revision,
    });
    expect(check.spec.template.metadata.annotations).toEqual({
      [MODE_ANNOTATION]: "apply",
      "registry-setup.io/payload-files": FILES.revision,
      "registry-setup.io/payload-services": SERVICES.revision,
    });
    expect((objects[6] as Obj).spec.template.metadata.annotations[MODE_ANNOTATION]).toBe("destroy");
    // The give-back program switches the same annotation.
    expect(SCRIPT_MODE_ANNOTATION).toBe(MODE_ANNOTATION);
    // The agent reads the mode and the node's name from the Pod itself.
    const env = files.spec.template.spec.initContainers[0].env;
    expect(env).toEqual([
      { name: "P_NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
      {
        name: "P_MODE",
        valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${MODE_ANNOTATION}']` } },
      },
      { name: "P_PART", value: "files" },
    ]);
  });

  test("privileges: hostPID and privileged only where the node is entered; no API credentials; no hostPath", () => {
    for (const ds of objects.slice(3) as Obj[]) {
      const pod = ds.spec.template.spec;
      expect(pod).toMatchObject({
        hostPID: true,
        automountServiceAccountToken: false,
        enableServiceLinks: false,
      });
      expect(pod.hostNetwork).toBeUndefined();
      expect(pod.serviceAccountName).toBeUndefined();
      expect(JSON.stringify(pod.volumes)).not.toContain("hostPath");
      expect(pod.nodeSelector["kubernetes.io/os"]).toBe("linux");
    }
    const files = (objects[3] as Obj).spec.template.spec;
    expect(files.initContainers[0].securityContext).toEqual({
      privileged: true,
      readOnlyRootFilesystem: true,
      runAsUser: 0,
    });
    expect(files.initContainers[0].terminationMessagePolicy).toBe("FallbackToLogsOnError");
    expect(files.containers[0]).toMatchObject({
      name: "idle",
      securityContext: {
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
      },
    });
    expect(files.containers[0].securityContext.privileged).toBeUndefined();
    expect(files.tolerations).toEqual([{ operator: "Exists" }]);
    expect((objects[6] as Obj).spec.template.spec.tolerations).toBeUndefined();
    expect(files.volumes).toEqual([
      {
        name: "payload-files",
        configMap: { name: FILES.name, defaultMode: 0o400, items: [{ key: "node.sh", path: "node.sh" }] },
      },
    ]);
    const check = (objects[5] as Obj).spec.template.spec.containers[0];
    expect(check.readinessProbe.exec.command).toEqual(CHECK_READINESS_COMMAND);
    expect(check.command).toEqual(agentCommand("check"));
  });

  test("the namespace admits privileged pods (Pod Security admission)", () => {
    expect((objects[0] as Obj).metadata.labels).toMatchObject({
      "pod-security.kubernetes.io/enforce": "privileged",
    });
  });

  test("the default image is pinned by digest", () => {
    expect(DEFAULT_AGENT_IMAGE).toMatch(/^docker\.io\/library\/busybox:1\.37\.0-musl@sha256:[0-9a-f]{64}$/);
  });
});

describe("the agent script", () => {
  const shells = ["busybox sh", "sh"]; // BusyBox ash (the image), dash (a Debian node)
  const message = /^ra_message\(\) \{\n[\s\S]*?\n\}\n/m.exec(AGENT_SCRIPT)![0];

  test.each(shells)("parses under %s", (shell) => {
    const [bin, ...args] = shell.split(" ");
    const r = spawnSync(bin, [...args, "-n", "-c", AGENT_SCRIPT], { encoding: "utf8" });
    expect({ code: r.status, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
  });

  test("passes shellcheck as POSIX sh", () => {
    const r = spawnSync("shellcheck", ["-s", "sh", "-"], { input: AGENT_SCRIPT, encoding: "utf8" });
    expect(r.stdout).toBe("");
    expect(r.status).toBe(0);
  });

  test.each(shells)("%s: a summary longer than kubelet keeps becomes counts, longest list first", (shell) => {
    const changed = Array.from({ length: 150 }, (_, i) => `/etc/containerd/certs.d/r${i}.example/hosts.toml`);
    const summary = {
      format: 1,
      node: "node-1",
      owner: "registries",
      part: "files",
      mode: "apply",
      changed,
      removed: [],
      unchanged: 3,
      drift: ["/etc/containerd/certs.d/docker.io/hosts.toml"],
      actions: [],
      probed: [],
      recovered: false,
      rolledBack: false,
    };
    const line = SUMMARY_PREFIX + JSON.stringify(summary);
    const [bin, ...args] = shell.split(" ");
    const run = (l: string) =>
      spawnSync(bin, [...args, "-c", `${message}ra_message "$1"`, "sh", l], { encoding: "utf8" }).stdout;
    const out = run(line);
    expect(out.length).toBeLessThanOrEqual(4096);
    expect(JSON.parse(out.slice(SUMMARY_PREFIX.length))).toEqual({
      ...summary,
      changed: [],
      changedCount: 150,
      truncated: true,
    });
    // A summary that fits is kept as it is.
    const short = SUMMARY_PREFIX + JSON.stringify({ ...summary, changed: changed.slice(0, 3) });
    expect(run(short)).toBe(`${short}\n`);
  });

  test("an unknown role is refused", () => {
    const r = spawnSync("busybox", ["sh", "-c", AGENT_SCRIPT, "registry-setup-agent", "bogus"], {
      encoding: "utf8",
    });
    expect(r.status).toBe(64);
    expect(r.stderr).toContain("usage");
  });
});
