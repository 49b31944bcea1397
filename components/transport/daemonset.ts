/**
 * The DaemonSet transport: Kubernetes itself reaches every node of a class, now and whenever one joins later. Per
 * part of the class's plan: the packed node script in an immutable payload object (a Secret when the part holds a
 * credential, else a ConfigMap), a DaemonSet whose pods run it in the node's namespaces, and a give-back
 * `local.Command` that runs the script's `destroy` on every node before the DaemonSet goes; per class, a drift
 * checker DaemonSet. The objects come from the pure builders in `kubernetes/nodeClass.ts`.
 *
 * Resource graph, and why: `payload ← give-back ← DaemonSet`.
 * - The DaemonSet depends on the give-back command, so the command exists before any node applies anything (even a
 *   first rollout that fails halfway leaves it in the stack) and is deleted after the DaemonSet.
 * - The DaemonSet has `retainOnDelete`: Pulumi's delete only forgets it; the give-back command then switches it to
 *   destroy mode, waits for every node, and deletes it itself (see `kubectl/daemonSetScript.ts`).
 * - The payload is deleted last: the destroy Pods read it.
 *
 * @module
 */
import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { DAEMONSET_SCRIPT } from "../kubectl/daemonSetScript.bundle";
import { KubeObject } from "../kubernetes/objects";
import { PAYLOAD_ANNOTATION_PREFIX } from "../kubernetes/nodeAgent";
import {
  applyDaemonSet,
  checkDaemonSet,
  NodeClassSpec,
  nodeClassObjectName,
  payloadObject,
  PayloadRef,
} from "../kubernetes/nodeClass";
import { ClassDelivered, ClassDelivery, ClassPartDelivery, NodeClassTransport } from "./types";

/** What every class of one component shares. */
export interface DaemonSetSettings {
  /** The namespace (it must exist and admit privileged pods). */
  readonly namespace: string;
  /** The owner of the node state (names the objects). */
  readonly owner: string;
  /** The agent image. */
  readonly image: string;
  /** `IfNotPresent`, `Always` or `Never`. */
  readonly imagePullPolicy: string;
  /** Tolerate every taint. */
  readonly tolerateAllTaints: boolean;
  /** A PriorityClass for the pods. */
  readonly priorityClassName?: string;
  /** Seconds between drift checks; 0: no drift checker. */
  readonly checkSeconds: number;
  /** How long `pulumi up` waits for a DaemonSet's rollout (the provider's default when absent). */
  readonly rolloutTimeoutSeconds?: number;
  /** The kubeconfig file kubectl uses for the give-back command (kubectl's default when absent). */
  readonly kubeconfig?: string;
  /** The kubeconfig context kubectl uses (the current one when absent). */
  readonly kubeContext?: string;
  /** How long the give-back command waits for every node. */
  readonly giveBackTimeoutSeconds: number;
  /** What every payload must wait for (the namespace, when the component creates it). */
  readonly dependsOn: pulumi.Resource[];
}

/** The fixed command texts of the give-back command: the program arrives on stdin, its parameters in the env. */
export const GIVE_BACK_COMMANDS = {
  create: "node - verify",
  update: "node - verify",
  delete: "node - give-back",
};

/** Applies node classes with DaemonSets. */
export class DaemonSetTransport implements NodeClassTransport {
  /** @param settings what every class shares. */
  constructor(private readonly settings: DaemonSetSettings) {}

  /** The pure builders' spec of one class. */
  spec(d: Pick<ClassDelivery, "className" | "nodeSelector" | "maxUnavailable">): NodeClassSpec {
    const s = this.settings;
    return {
      namespace: s.namespace,
      owner: s.owner,
      className: d.className,
      nodeSelector: d.nodeSelector,
      maxUnavailable: d.maxUnavailable,
      image: s.image,
      imagePullPolicy: s.imagePullPolicy,
      tolerateAllTaints: s.tolerateAllTaints,
      checkSeconds: s.checkSeconds,
      ...(s.priorityClassName ? { priorityClassName: s.priorityClassName } : {}),
      ...(s.rolloutTimeoutSeconds !== undefined ? { rolloutTimeoutSeconds: s.rolloutTimeoutSeconds } : {}),
    };
  }

  /** @inheritdoc */
  deliverClass(d: ClassDelivery, opts: pulumi.CustomResourceOptions): ClassDelivered {
    const spec = this.spec(d);
    const resources: pulumi.Resource[] = [];
    const refs: PayloadRef[] = [];
    const revisions = new Map<string, pulumi.Output<string>>();
    const daemonSets: string[] = [];
    for (const part of d.parts) {
      const payload = this.payload(d.name, spec, part, opts);
      resources.push(payload);
      const ref: PayloadRef = {
        part: part.part,
        name: nodeClassObjectName(spec.owner, spec.className, part.part),
        secret: part.secret,
        revision: "",
      };
      refs.push(ref);
      revisions.set(part.part, payload.metadata.uid);

      // Child names must never change once released: a new name is a new resource (gives back, then applies again).
      const giveBack = new command.local.Command(
        `${d.name}-${part.part}-give-back`,
        {
          ...GIVE_BACK_COMMANDS,
          // The program travels on stdin: the command text stays the same on every machine and holds no secret.
          stdin: DAEMONSET_SCRIPT,
          environment: {
            REGISTRY_SETUP_NAMESPACE: spec.namespace,
            REGISTRY_SETUP_DAEMONSETS: JSON.stringify([ref.name]),
            REGISTRY_SETUP_WAIT_SECONDS: String(this.settings.giveBackTimeoutSeconds),
            ...(this.settings.kubeconfig ? { REGISTRY_SETUP_KUBECONFIG: this.settings.kubeconfig } : {}),
            ...(this.settings.kubeContext ? { REGISTRY_SETUP_CONTEXT: this.settings.kubeContext } : {}),
          },
          addPreviousOutputInEnv: false,
          logging: "stdoutAndStderr",
        },
        // Deleted before the payload its destroy Pods read.
        { ...opts, dependsOn: [payload] },
      );
      resources.push(giveBack);

      const ds = new k8s.apps.v1.DaemonSet(
        `${d.name}-${part.part}`,
        daemonSetArgs(applyDaemonSet(spec, ref), revisions),
        // Pulumi only forgets it on delete: the give-back command gives every node back, then deletes it.
        { ...opts, dependsOn: [giveBack], retainOnDelete: true },
      );
      resources.push(ds);
      daemonSets.push(`${spec.namespace}/${ref.name}`);
    }
    if (spec.checkSeconds > 0 && refs.length > 0) {
      const check = new k8s.apps.v1.DaemonSet(
        `${d.name}-check`,
        daemonSetArgs(checkDaemonSet(spec, refs), revisions),
        opts,
      );
      resources.push(check);
      daemonSets.push(`${spec.namespace}/${nodeClassObjectName(spec.owner, spec.className, "check")}`);
    }
    return { resources, daemonSets };
  }

  private payload(
    prefix: string,
    spec: NodeClassSpec,
    part: ClassPartDelivery,
    opts: pulumi.CustomResourceOptions,
  ): k8s.core.v1.Secret | k8s.core.v1.ConfigMap {
    const object = part.script.apply((s) => payloadObject(spec, part.part, s, part.secret));
    // The metadata is known now (it does not depend on the script): names show in a preview.
    const { metadata } = payloadObject(spec, part.part, "", part.secret);
    const payloadOpts: pulumi.CustomResourceOptions = {
      ...opts,
      dependsOn: this.settings.dependsOn,
      // Immutable: a new payload is a new object (with a new uid, which rolls the DaemonSets), and its name is
      // fixed, so the old one goes first.
      deleteBeforeReplace: true,
    };
    if (part.secret) {
      return new k8s.core.v1.Secret(
        `${prefix}-${part.part}-payload`,
        {
          metadata,
          type: "Opaque",
          immutable: true,
          data: pulumi.secret(object.apply((o) => o.data as Record<string, string>)),
        },
        { ...payloadOpts, replaceOnChanges: ["data", "stringData"] },
      );
    }
    return new k8s.core.v1.ConfigMap(
      `${prefix}-${part.part}-payload`,
      { metadata, immutable: true, data: object.apply((o) => o.data as Record<string, string>) },
      { ...payloadOpts, replaceOnChanges: ["data", "binaryData"] },
    );
  }
}

/**
 * A DaemonSet's arguments: everything known now but the payloads' identities in the Pod template's annotations, so
 * that a preview sees exactly what changes (a spec that were unknown as a whole would hide the selector too).
 */
function daemonSetArgs(
  object: KubeObject,
  revisions: ReadonlyMap<string, pulumi.Output<string>>,
): k8s.apps.v1.DaemonSetArgs {
  // A deep copy whose annotations can hold Outputs (through JSON: plain data, and arrays of this realm, which
  // Pulumi's serializer recognises; structuredClone's come from the host realm under jest).
  const spec = JSON.parse(JSON.stringify(object.spec)) as {
    template: { metadata: { annotations: Record<string, unknown> } };
  };
  const annotations = spec.template.metadata.annotations;
  for (const [part, uid] of revisions) {
    const key = `${PAYLOAD_ANNOTATION_PREFIX}${part}`;
    if (key in annotations) annotations[key] = uid;
  }
  return {
    metadata: object.metadata as k8s.types.input.meta.v1.ObjectMeta,
    spec: spec as unknown as k8s.types.input.apps.v1.DaemonSetSpec,
  };
}
