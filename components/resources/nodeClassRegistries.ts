/**
 * `NodeClassRegistries`: the registry configuration of every node of one or more node classes (a node selector
 * plus runtime profiles), applied from inside the cluster by privileged DaemonSets, so that nodes that join later
 * are configured too and nothing per node is kept in the program or its state.
 *
 * @module
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PreparedDeclaration, prepareDeclaration } from "../inputs/declaration";
import { RegistriesInput } from "../inputs/types";
import { DEFAULT_AGENT_IMAGE } from "../kubernetes/nodeAgent";
import { nodeAgentNamespaceObject } from "../kubernetes/nodeClass";
import { ConfigError, Problems, show } from "../model/errors";
import { optionalBoolean } from "../model/fields";
import { PartName } from "../node/entries";
import { RuntimeProfile } from "../node/profiles";
import { packNodeScript } from "../node/script";
import { DaemonSetTransport } from "../transport/daemonset";
import { ClassPartDelivery, NodeClassTransport } from "../transport/types";
import { checkSettings, classPlan, DriftMode, NodeFile, nodeParts, NodeSettings, NodeWarning } from "./node";
import { checkClass, checkOverlaps, DNS_LABEL, optionalString, wholeNumber } from "./nodeClassChecks";
import { PREPARED } from "./nodeRegistries";
import { throwProblems } from "./problems";

/** When kubelet pulls the agent image. */
export const ImagePullPolicy = {
  /** Pull when the node does not have the image yet (with an image pinned by digest: never again). */
  IfNotPresent: "IfNotPresent",
  /** Pull on every Pod start. */
  Always: "Always",
  /** Never pull: the image must already be on every node (side-loaded, or in the node image). */
  Never: "Never",
} as const;
/** One of {@link ImagePullPolicy}'s values. */
export type ImagePullPolicy = (typeof ImagePullPolicy)[keyof typeof ImagePullPolicy];

/** A node class: every node that carries some labels, with the same runtime profiles. */
export interface NodeClass {
  /**
   * The class's name: a stable key used in child resource names and in the names of its Kubernetes objects
   * (`<owner>-<name>-files`, …). Lowercase letters, digits and `-`. Changing it gives the class's nodes back and
   * applies again.
   */
  name: string;
  /**
   * The labels a node must carry to belong to the class (`kubernetes.io/os: linux` is always added). Empty: every
   * Linux node. A node must belong to one class only.
   */
  nodeSelector: Record<string, string>;
  /** The runtime profiles of the class's nodes, e.g. `[{ kind: "containerd" }, { kind: "kubelet" }]`. */
  profiles: RuntimeProfile[];
  /**
   * How many of the class's nodes may restart or reload a service at the same time (the `services` DaemonSet's
   * `maxUnavailable`). Changes that restart nothing go to every node at once. Defaults to 1.
   */
  maxUnavailable?: number;
}

/**
 * The node classes and how their DaemonSets run: `NodeClassRegistries`' own settings, and `RegistrySetup`'s
 * `nodeClasses` (whose kubectl comes from its `kubectl` settings).
 */
export interface NodeClassesArgs {
  /** The node classes (at least one); names must be unique, and no class may select every node of another. */
  classes: NodeClass[];
  /** The namespace of the DaemonSets and their payloads. Defaults to `registry-setup-nodes`. */
  namespace?: string;
  /**
   * Create the namespace (labelled so that Pod Security admission admits privileged pods). Defaults to `true`; with
   * `false` the namespace must exist and admit privileged pods.
   */
  createNamespace?: boolean;
  /**
   * The agent image: anything with a POSIX `sh` and `nsenter` (the node's own tools do the work). Defaults to
   * BusyBox 1.37.0 pinned by digest. In an air-gapped cluster point it at a copy in a registry the nodes reach
   * before this configuration exists (where their own system images come from), or side-load it.
   */
  image?: string;
  /** When kubelet pulls the image: `IfNotPresent` (default), `Always` or `Never` (side-loaded images). */
  imagePullPolicy?: ImagePullPolicy;
  /** Run on tainted nodes too (control planes, dedicated pools): the pods tolerate every taint. Defaults to `true`. */
  tolerateAllTaints?: boolean;
  /** A PriorityClass for the pods, e.g. `system-node-critical`. */
  priorityClassName?: string;
  /**
   * Seconds between drift checks: a checker DaemonSet runs the node script's `check` on every node and is Ready only
   * while the node is as declared. `0`: no checker. Defaults to 600.
   */
  driftCheckSeconds?: number;
  /** How long `pulumi up` waits for each DaemonSet's rollout, in seconds. Defaults to the Kubernetes provider's. */
  rolloutTimeoutSeconds?: number;
  /** How long a give-back waits for every node of a part, in seconds (0–86400). Defaults to 600. */
  giveBackTimeoutSeconds?: number;
}

/** Arguments of {@link NodeClassRegistries}. */
export interface NodeClassRegistriesArgs extends NodeClassesArgs {
  /** The registries every node must use, keyed by the name images use. Passwords and keys may be secret Outputs. */
  registries: RegistriesInput;
  /**
   * The kubeconfig file kubectl uses when the give-back commands run (on `pulumi destroy`, or when a class is
   * removed). Defaults to kubectl's own (`$KUBECONFIG`, `~/.kube/config`). It must reach the cluster the
   * Kubernetes provider deploys to.
   */
  kubeconfig?: string;
  /** The kubeconfig context kubectl uses. Defaults to the current context. */
  kubeContext?: string;
  /**
   * Who owns the files on the nodes: names each node's state and the Kubernetes objects. Two stacks that manage the
   * same nodes need different owners. Lowercase letters, digits and `-` here. Defaults to `registries`.
   */
  owner?: string;
  /** Check from each node that every mirror answers `GET /v2/` before pointing it there. Defaults to `false`. */
  probeMirrors?: boolean;
  /** What to do with managed files edited by hand: `overwrite` (and report) or `fail`. Defaults to `overwrite`. */
  drift?: DriftMode;
  /** How long an apply waits for another one on the same node, in seconds (0–3600). Defaults to 120. */
  lockWaitSeconds?: number;
}

/** What a parent hands the component under `PREPARED` (see NodeRegistries). */
interface Inherited {
  readonly prepared: PreparedDeclaration;
  /** The property path of the classes in the parent's arguments, e.g. `nodeClasses.classes`. */
  readonly path: string;
  /** Where the parent takes a problem's path from: e.g. `namespace` → `nodeClasses.namespace`. */
  readonly problemPath?: (path: string) => string;
}

/** Problems whose paths are rewritten to the paths in a parent's arguments. */
class MappedProblems extends Problems {
  constructor(private readonly map: (path: string) => string) {
    super();
  }
  override add(path: string, message: string): void {
    super.add(this.map(path), message);
  }
}

/**
 * Applies one registry declaration to every node of one or more node classes, from inside the cluster: per class
 * and part of its plan (`files`: changes that need no restart; `services`: changes that restart or reload a service)
 * an immutable payload (the same packed node script the SSH transport sends: a Secret when the part holds a
 * credential, else a ConfigMap) and a privileged DaemonSet whose Pods run it in the node's own namespaces (`nsenter`
 * into PID 1's): on every node, on nodes that join later, and again whenever the payload changes. `files` changes
 * go to every node at once; `services` changes roll `maxUnavailable` nodes at a time, and a node whose apply fails
 * stops the rollout (its Pod stays not Ready). A checker DaemonSet reports drift. Removing a class (or destroying the
 * stack) gives every node back before its DaemonSets go.
 *
 * What an operator reads, with no RBAC for the Pods at all: each node's summary line in the init container's log
 * and termination message, the checker's readiness and the events kubelet records when it is not Ready.
 *
 * @example
 * new NodeClassRegistries("cluster", {
 *   classes: [{ name: "workers", nodeSelector: { "node-role.kubernetes.io/worker": "" }, profiles: [{ kind: "containerd" }] }],
 *   registries: { "docker.io": { mirrors: [{ endpoint: "http://10.0.0.5:5000" }] } },
 * });
 */
export class NodeClassRegistries extends pulumi.ComponentResource {
  /** The DaemonSets that apply the classes (and check them), as `<namespace>/<name>`. */
  public readonly daemonSets: pulumi.Output<string[]>;
  /** Each class's managed paths (see `NodeRegistries.files`), keyed by class name. */
  public readonly files: pulumi.Output<Record<string, NodeFile[]>>;
  /** What the classes' formats could not express, keyed by class name (only classes with warnings). */
  public readonly warnings: pulumi.Output<Record<string, NodeWarning[]>>;
  /** The namespace of the DaemonSets. */
  public readonly namespace: pulumi.Output<string>;

  /**
   * @param name the component's name; its children are named `${name}-${class}-…`.
   * @param args the classes, the registries and the DaemonSet settings.
   * @param opts resource options (the Kubernetes provider goes in `providers`).
   */
  constructor(name: string, args: NodeClassRegistriesArgs, opts?: pulumi.ComponentResourceOptions) {
    // The type token never changes once released: a new token is a new resource type (everything replaced).
    super("registry-setup:index:NodeClassRegistries", name, {}, opts);
    const inherited = (args as unknown as Record<symbol, Inherited | undefined>)[PREPARED];
    const root = inherited?.path ?? "classes";
    const problems = inherited?.problemPath ? new MappedProblems(inherited.problemPath) : new Problems();
    const settings = checkSettings(problems, args);
    if (typeof settings.owner === "string" && !DNS_LABEL.test(settings.owner)) {
      problems.add(
        "owner",
        `${show(settings.owner)} must be lowercase letters, digits and "-" here: it names Kubernetes objects`,
      );
    }
    const namespace = optionalString(problems, "namespace", args.namespace) ?? "registry-setup-nodes";
    if (namespace.length > 63 || !DNS_LABEL.test(namespace))
      problems.add("namespace", `${show(namespace)} must be a DNS label (lowercase letters, digits, "-")`);
    const createNamespace = optionalBoolean(problems, "createNamespace", args.createNamespace) ?? true;
    const image = optionalString(problems, "image", args.image) ?? DEFAULT_AGENT_IMAGE;
    const pullPolicy = args.imagePullPolicy ?? ImagePullPolicy.IfNotPresent;
    if (!Object.values(ImagePullPolicy).includes(pullPolicy))
      problems.add(
        "imagePullPolicy",
        `${show(pullPolicy)} must be one of ${Object.values(ImagePullPolicy).join(", ")}`,
      );
    const tolerate = optionalBoolean(problems, "tolerateAllTaints", args.tolerateAllTaints) ?? true;
    const priorityClassName = optionalString(problems, "priorityClassName", args.priorityClassName);
    const checkSeconds = wholeNumber(problems, "driftCheckSeconds", args.driftCheckSeconds, 0, 86400) ?? 600;
    const rolloutTimeout = wholeNumber(
      problems,
      "rolloutTimeoutSeconds",
      args.rolloutTimeoutSeconds,
      1,
      86400,
    );
    const giveBackTimeout =
      wholeNumber(problems, "giveBackTimeoutSeconds", args.giveBackTimeoutSeconds, 0, 86400) ?? 600;
    const kubeconfig = optionalString(problems, "kubeconfig", args.kubeconfig);
    const kubeContext = optionalString(problems, "kubeContext", args.kubeContext);

    const classes = Array.isArray(args.classes) ? args.classes : [];
    if (!Array.isArray(args.classes) || args.classes.length === 0)
      problems.add(root, "must list at least one node class { name, nodeSelector, profiles }");
    const seen = new Map<string, number>();
    classes.forEach((c, i) => checkClass(problems, c, `${root}[${i}]`, settings, seen, i));
    checkOverlaps(problems, classes, root);
    throwProblems(problems, this);

    let prepared = inherited?.prepared;
    if (!prepared) {
      const p = prepareDeclaration(args.registries, this);
      p.problems.forEach((x) => problems.add(x.path, x.message));
      prepared = p.prepared;
    }
    throwProblems(problems, this);
    if (!prepared) throw new Error("internal: no declaration");
    const decl = prepared;

    // Every class is planned before any child exists, so that a bad class anywhere registers nothing.
    const parts = new Map<string, PartName[]>();
    classes.forEach((c, i) => {
      try {
        parts.set(c.name, nodeParts(decl, c, settings, `${root}[${i}]`));
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        e.problems.forEach((p) => problems.add(p.path, p.message));
      }
    });
    throwProblems(problems, this);
    if (!image.includes("@sha256:")) {
      void pulumi.log.warn(
        `image ${JSON.stringify(image)} is not pinned by digest: nodes may run different images under one tag`,
        this,
      );
    }

    const namespaceResource = createNamespace
      ? new k8s.core.v1.Namespace(
          `${name}-namespace`,
          nodeAgentNamespaceObject(namespace) as k8s.core.v1.NamespaceArgs,
          { parent: this },
        )
      : undefined;
    const transport: NodeClassTransport = new DaemonSetTransport({
      namespace,
      owner: settings.owner,
      image,
      imagePullPolicy: pullPolicy,
      tolerateAllTaints: tolerate,
      checkSeconds,
      giveBackTimeoutSeconds: giveBackTimeout,
      dependsOn: namespaceResource ? [namespaceResource] : [],
      ...(priorityClassName ? { priorityClassName } : {}),
      ...(rolloutTimeout !== undefined ? { rolloutTimeoutSeconds: rolloutTimeout } : {}),
      ...(kubeconfig ? { kubeconfig } : {}),
      ...(kubeContext ? { kubeContext } : {}),
    });

    const daemonSets: string[] = [];
    const files: pulumi.Output<[string, NodeFile[]]>[] = [];
    const warnings: pulumi.Output<[string, NodeWarning[]]>[] = [];
    classes.forEach((c, i) => {
      const path = `${root}[${i}]`;
      const planned = decl.model.apply((model) => {
        try {
          return classPlan(model, c, settings, path);
        } catch (e) {
          if (e instanceof ConfigError) throw new pulumi.ResourceError(e.message, this);
          throw e;
        }
      });
      const classParts = parts.get(c.name)!;
      const deliveries: ClassPartDelivery[] = classParts.map((part) => {
        const secret = partMayHoldSecret(decl, c, settings, path, part);
        const built = planned.apply((plan) => {
          const p = plan.parts.find((x) => x.part === part);
          const missing = plan.parts.find((x) => !classParts.includes(x.part!));
          if (missing) {
            throw new pulumi.ResourceError(
              `${path}: the declaration, once known, needs a ${missing.part} part that was not foreseen when the program was built; pass the registry declaration as plain values (secrets may be Outputs) or report this`,
              this,
            );
          }
          if (p?.secret && !secret)
            throw new Error(`internal: ${path} ${part} holds a credential but has a ConfigMap`);
          return packNodeScript(p ? plan.bodies.get(part)! : plan.emptyBody(part), undefined);
        });
        const script = pulumi.unsecret(built).apply((t) => (secret ? pulumi.secret(t) : pulumi.output(t)));
        return { part, script, secret };
      });
      const delivered = transport.deliverClass(
        {
          name: `${name}-${c.name}`,
          className: c.name,
          nodeSelector: c.nodeSelector,
          maxUnavailable: c.maxUnavailable ?? 1,
          parts: deliveries,
        },
        { parent: this },
      );
      daemonSets.push(...delivered.daemonSets);
      files.push(pulumi.unsecret(planned.apply((p) => [c.name, p.files] as [string, NodeFile[]])));
      warnings.push(pulumi.unsecret(planned.apply((p) => [c.name, p.warnings] as [string, NodeWarning[]])));
    });

    this.daemonSets = pulumi.output(daemonSets);
    this.files = pulumi.all(files).apply((l) => Object.fromEntries(l));
    this.warnings = pulumi.all(warnings).apply((l) => Object.fromEntries(l.filter(([, w]) => w.length > 0)));
    this.namespace = pulumi.output(namespace);
    this.registerOutputs({
      daemonSets: this.daemonSets,
      files: this.files,
      warnings: this.warnings,
      namespace: this.namespace,
    });
  }
}

/**
 * Whether a part's payload must be a Secret: exactly when it holds a credential, if the declaration's shape is
 * known now (unknown secrets are planned with placeholders, which mark the same entries secret); otherwise always.
 */
function partMayHoldSecret(
  prepared: PreparedDeclaration,
  c: NodeClass,
  settings: NodeSettings,
  path: string,
  part: PartName,
): boolean {
  if (!prepared.known || prepared.partlyUnknown) return true;
  return classPlan(prepared.known, c, settings, path).parts.find((p) => p.part === part)?.secret ?? false;
}
