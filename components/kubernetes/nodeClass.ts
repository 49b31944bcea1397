/**
 * Builders of the objects that apply a node class's registry configuration from inside the cluster: the payload
 * (the packed node script of one part, in a Secret when it holds a credential, else in a ConfigMap), one DaemonSet
 * per part (`files`: all nodes at once; `services`: rolled with `maxUnavailable`), the drift checker's DaemonSet,
 * and the namespace they live in. Plain objects, no Pulumi.
 *
 * The pods have no API credentials at all (`automountServiceAccountToken: false`): what an operator reads comes
 * from kubelet (container logs, the init container's termination message, the checker's readiness and the events
 * kubelet records when its probe fails), so no RBAC is needed.
 *
 * @module
 */
import { PartName } from "../node/entries";
import {
  agentCommand,
  CHECK_READINESS_COMMAND,
  MODE_ANNOTATION,
  PAYLOAD_ANNOTATION_PREFIX,
  PAYLOAD_DIR,
  PAYLOAD_KEY,
  STATUS_DIR,
} from "./nodeAgent";
import { KubeObject, PART_OF } from "./objects";

/** What a node class's pods do: apply the declaration, or give every node back. */
export type NodeClassMode = "apply" | "destroy";

/** The roles of a node class's DaemonSets: one per part, and the drift checker. */
export type NodeClassRole = PartName | "check";

/** The value of `app.kubernetes.io/name` on every object of a node class. */
export const NODE_AGENT_NAME = "registry-setup-node";

/** The label that names a node class on its objects and pods. */
export const CLASS_LABEL = "registry-setup.io/class";

/** The label that names the owner (the node state's name) on a node class's objects and pods. */
export const OWNER_LABEL = "registry-setup.io/owner";

/** Pod Security admission: the namespace must allow privileged pods (`hostPID`, `privileged`). */
export const POD_SECURITY_LABELS: Readonly<Record<string, string>> = {
  "pod-security.kubernetes.io/enforce": "privileged",
  "pod-security.kubernetes.io/audit": "privileged",
  "pod-security.kubernetes.io/warn": "privileged",
};

/** One part's payload, as the DaemonSets refer to it. */
export interface PayloadRef {
  /** The part. */
  readonly part: PartName;
  /** The payload object's name. */
  readonly name: string;
  /** Whether it is a Secret (the part holds a credential) rather than a ConfigMap. */
  readonly secret: boolean;
  /**
   * The payload object's identity (its `metadata.uid`): a new object gets a new one, so a Pod template that carries
   * it rolls whenever the payload was replaced. A content hash would do the same, but for a part that holds a
   * credential it would publish a digest of it where anyone who may read Pods could try passwords against it.
   */
  readonly revision: string;
}

/** Everything that decides a node class's DaemonSets. */
export interface NodeClassSpec {
  /** The namespace. */
  readonly namespace: string;
  /** The owner of the node state (names the objects and labels them). */
  readonly owner: string;
  /** The class's name. */
  readonly className: string;
  /** Node labels a node must have to belong to the class (`kubernetes.io/os: linux` is always added). */
  readonly nodeSelector: Readonly<Record<string, string>>;
  /** How many nodes may run a `services` apply (a restart or reload) at the same time. */
  readonly maxUnavailable: number;
  /** The container image (a POSIX `sh` and `nsenter`). */
  readonly image: string;
  /** `IfNotPresent`, `Always` or `Never`. */
  readonly imagePullPolicy: string;
  /** Tolerate every taint, so that tainted nodes (control planes, dedicated pools) are configured too. */
  readonly tolerateAllTaints: boolean;
  /** A PriorityClass for the pods. */
  readonly priorityClassName?: string;
  /** Seconds between drift checks; 0: no drift checker. */
  readonly checkSeconds: number;
  /** Seconds `pulumi up` waits for a DaemonSet's rollout (the provider's `pulumi.com/timeoutSeconds`). */
  readonly rolloutTimeoutSeconds?: number;
}

/** The name of a node class's object in the namespace: `<owner>-<class>-<role>`. */
export function nodeClassObjectName(owner: string, className: string, role: NodeClassRole): string {
  return `${owner}-${className}-${role}`;
}

/** The labels of one role's objects and pods; `app.kubernetes.io/instance` (the object's name) selects its pods. */
export function nodeClassLabels(spec: NodeClassSpec, role: NodeClassRole): Record<string, string> {
  return {
    "app.kubernetes.io/component": role,
    "app.kubernetes.io/instance": nodeClassObjectName(spec.owner, spec.className, role),
    "app.kubernetes.io/name": NODE_AGENT_NAME,
    "app.kubernetes.io/part-of": PART_OF,
    [CLASS_LABEL]: spec.className,
    [OWNER_LABEL]: spec.owner,
  };
}

/** The namespace the node agents run in, labelled so that Pod Security admission lets privileged pods in. */
export function nodeAgentNamespaceObject(name: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name, labels: { "app.kubernetes.io/part-of": PART_OF, ...POD_SECURITY_LABELS } },
  };
}

/**
 * One part's payload: the packed node script under {@link PAYLOAD_KEY}, immutable (a change makes a new object,
 * whose new `uid` rolls the DaemonSets; kubelet also stops watching immutable objects, which matters at a thousand
 * nodes). A Secret when the part holds a credential, else a ConfigMap that anyone allowed to read ConfigMaps in the
 * namespace can review.
 */
export function payloadObject(
  spec: NodeClassSpec,
  part: PartName,
  script: string,
  secret: boolean,
): KubeObject {
  const metadata = {
    name: nodeClassObjectName(spec.owner, spec.className, part),
    namespace: spec.namespace,
    labels: nodeClassLabels(spec, part),
  };
  return secret
    ? {
        apiVersion: "v1",
        kind: "Secret",
        metadata,
        type: "Opaque",
        immutable: true,
        data: { [PAYLOAD_KEY]: Buffer.from(script, "utf8").toString("base64") },
      }
    : { apiVersion: "v1", kind: "ConfigMap", metadata, immutable: true, data: { [PAYLOAD_KEY]: script } };
}

function payloadVolume(ref: PayloadRef): Record<string, unknown> {
  // 0400: the script is read by the agent (root) only.
  const items = [{ key: PAYLOAD_KEY, path: PAYLOAD_KEY }];
  return ref.secret
    ? { name: `payload-${ref.part}`, secret: { secretName: ref.name, defaultMode: 0o400, items } }
    : { name: `payload-${ref.part}`, configMap: { name: ref.name, defaultMode: 0o400, items } };
}

function payloadMount(ref: PayloadRef): Record<string, unknown> {
  return { name: `payload-${ref.part}`, mountPath: `${PAYLOAD_DIR}/${ref.part}`, readOnly: true };
}

/** The environment every agent gets: the node's name and the mode, from the Pod itself. */
function agentEnv(): Record<string, unknown>[] {
  return [
    { name: "P_NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
    { name: "P_MODE", valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${MODE_ANNOTATION}']` } } },
  ];
}

/** A container that enters the node's namespaces: privileged (setns needs it), read-only root, root user. */
const PRIVILEGED = { privileged: true, readOnlyRootFilesystem: true, runAsUser: 0 };

/** The idle container needs nothing at all. */
const UNPRIVILEGED = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  runAsUser: 65534,
  runAsGroup: 65534,
};

function podSpec(
  spec: NodeClassSpec,
  extra: { initContainers?: unknown[]; containers: unknown[]; volumes: unknown[] },
): Record<string, unknown> {
  return {
    // PID 1 of the node must be visible to enter its namespaces.
    hostPID: true,
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    nodeSelector: { "kubernetes.io/os": "linux", ...spec.nodeSelector },
    ...(spec.tolerateAllTaints ? { tolerations: [{ operator: "Exists" }] } : {}),
    ...(spec.priorityClassName ? { priorityClassName: spec.priorityClassName } : {}),
    ...(extra.initContainers ? { initContainers: extra.initContainers } : {}),
    containers: extra.containers,
    volumes: extra.volumes,
  };
}

function daemonSet(
  spec: NodeClassSpec,
  role: NodeClassRole,
  payloads: readonly PayloadRef[],
  mode: NodeClassMode,
  maxUnavailable: number | string,
  pod: Record<string, unknown>,
): KubeObject {
  const labels = nodeClassLabels(spec, role);
  const selector = {
    "app.kubernetes.io/instance": labels["app.kubernetes.io/instance"],
    "app.kubernetes.io/name": NODE_AGENT_NAME,
  };
  const annotations: Record<string, string> = {};
  if (role === "check") annotations["pulumi.com/skipAwait"] = "true";
  else if (spec.rolloutTimeoutSeconds !== undefined)
    annotations["pulumi.com/timeoutSeconds"] = String(spec.rolloutTimeoutSeconds);
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: {
      name: labels["app.kubernetes.io/instance"],
      namespace: spec.namespace,
      labels,
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    spec: {
      selector: { matchLabels: selector },
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable } },
      template: {
        metadata: {
          labels,
          annotations: {
            [MODE_ANNOTATION]: mode,
            ...Object.fromEntries(payloads.map((p) => [`${PAYLOAD_ANNOTATION_PREFIX}${p.part}`, p.revision])),
          },
        },
        spec: pod,
      },
    },
  };
}

/**
 * The DaemonSet that applies one part on every node of the class: an init container runs the part's script (apply
 * or destroy) in the node's namespaces and exits with its status, so a failed apply keeps the Pod not Ready and
 * the rollout stops there; then an unprivileged container idles. `files` parts roll to every node at once
 * (`maxUnavailable: 100%`: nothing restarts); `services` parts roll `maxUnavailable` nodes at a time.
 */
export function applyDaemonSet(
  spec: NodeClassSpec,
  payload: PayloadRef,
  mode: NodeClassMode = "apply",
): KubeObject {
  const apply = {
    name: "apply",
    image: spec.image,
    imagePullPolicy: spec.imagePullPolicy,
    command: agentCommand("apply"),
    env: [...agentEnv(), { name: "P_PART", value: payload.part }],
    securityContext: PRIVILEGED,
    // The node script's own tools run in this container's cgroup: awk, gzip, sha256sum over the managed files.
    resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "256Mi" } },
    // No summary (the script failed early): kubelet shows the end of the log, where its error is.
    terminationMessagePolicy: "FallbackToLogsOnError",
    volumeMounts: [payloadMount(payload)],
  };
  const idle = {
    name: "idle",
    image: spec.image,
    imagePullPolicy: spec.imagePullPolicy,
    command: agentCommand("idle"),
    securityContext: UNPRIVILEGED,
    resources: { requests: { cpu: "1m", memory: "4Mi" }, limits: { cpu: "10m", memory: "16Mi" } },
  };
  const pod = podSpec(spec, {
    initContainers: [apply],
    containers: [idle],
    volumes: [payloadVolume(payload)],
  });
  return daemonSet(
    spec,
    payload.part,
    [payload],
    mode,
    payload.part === "files" ? "100%" : spec.maxUnavailable,
    pod,
  );
}

/**
 * The drift checker: every `checkSeconds` it runs `check` for every part on the node (changing nothing) and is
 * Ready only while the node is as declared (no drift, nothing an apply would change). Its rollouts restart
 * nothing, so they go to every node at once, and `pulumi up` does not wait for it (`pulumi.com/skipAwait`): drift
 * on one node must not block an apply elsewhere.
 */
export function checkDaemonSet(
  spec: NodeClassSpec,
  payloads: readonly PayloadRef[],
  mode: NodeClassMode = "apply",
): KubeObject {
  const check = {
    name: "check",
    image: spec.image,
    imagePullPolicy: spec.imagePullPolicy,
    command: agentCommand("check"),
    env: [...agentEnv(), { name: "P_CHECK_SECONDS", value: String(spec.checkSeconds) }],
    securityContext: PRIVILEGED,
    readinessProbe: {
      exec: { command: CHECK_READINESS_COMMAND },
      periodSeconds: Math.min(60, Math.max(10, spec.checkSeconds)),
      timeoutSeconds: 5,
      failureThreshold: 1,
      successThreshold: 1,
    },
    resources: { requests: { cpu: "5m", memory: "16Mi" }, limits: { memory: "128Mi" } },
    volumeMounts: [...payloads.map(payloadMount), { name: "status", mountPath: STATUS_DIR }],
  };
  const pod = podSpec(spec, {
    containers: [check],
    volumes: [
      ...payloads.map(payloadVolume),
      { name: "status", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } },
    ],
  });
  return daemonSet(spec, "check", payloads, mode, "100%", pod);
}
