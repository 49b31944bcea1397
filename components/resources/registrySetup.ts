/**
 * `RegistrySetup`: a cluster's whole container-registry setup as one resource: the nodes' registry files, the
 * in-cluster registry and caches, pull Secrets and ServiceAccounts, the MicroK8s registry addon, side-loaded images,
 * and the configuration of systems reached without SSH.
 *
 * @module
 */
import * as pulumi from "@pulumi/pulumi";
import { knownPart } from "../inputs/known";
import { prepareDeclaration } from "../inputs/declaration";
import { RegistriesInput } from "../inputs/types";
import { ClusterModel } from "../model/cluster";
import { ConfigError, Problems, withValuesHidden } from "../model/errors";
import { normalizeRegistries } from "../model/normalize";
import { normalizeCluster } from "../model/normalizeCluster";
import { RegistriesArgs, RegistryModel } from "../model/types";
import { ApplySummary } from "../node/summary";
import { checkClusterArgs, ClusterRegistries, planClusterParts, VALIDATED } from "./clusterRegistries";
import { ClusterParts, SideLoadPart, wireRegistryAddon, wireSideLoads } from "./clusterParts";
import { ClusterPullSecrets } from "./clusterPullSecrets";
import { hasServers, InClusterRegistries, namespacesOf } from "./inClusterRegistries";
import { MicroK8sRegistryAddon } from "./microk8sAddon";
import { checkSettings, NodeFile, NodeWarning } from "./node";
import { NodeClassRegistries } from "./nodeClassRegistries";
import { PREPARED } from "./nodeRegistries";
import { CHECKED, CheckedSideLoad, checkSideLoad, SideLoad } from "./sideLoad";
import { throwProblems } from "./problems";
import { addedEntries, mergeDeclaration, userMirrorPath } from "./mergeDeclaration";
import { checkAddon, checkKubectl, checkNodeAddress, checkRender } from "./registrySetupChecks";
import { RegistrySetupArgs, ServiceAccountResult } from "./registrySetupArgs";

export {
  NodeClassesArgs,
  RegistryAddonArgs,
  RegistrySetupArgs,
  ServiceAccountResult,
} from "./registrySetupArgs";
import {
  AnthosOutput,
  K0sOutput,
  KindOutput,
  KubeadmOutput,
  RenderedTargets,
  renderTargets,
  TalosOutput,
} from "./renderTargets";

/**
 * Internal: the components RegistrySetup wires but does not define (see clusterParts.ts). A test hands stand-ins
 * under this key; kept off the public argument type so that schemas and other languages never see it.
 */
export const PARTS = Symbol.for("registry-setup:cluster-parts");

/** The MicroK8s addon and side-load components, where RegistrySetup finds them (a test may hand stand-ins). */
export const REGISTRY_SETUP_PARTS: ClusterParts = {
  registryAddon: MicroK8sRegistryAddon,
  sideLoad: SideLoad,
};

/** NodeClassesArgs' own keys: a problem NodeClassRegistries reports at `namespace` is at `nodeClasses.namespace`. */
const NODE_CLASS_KEYS = [
  "namespace",
  "createNamespace",
  "image",
  "imagePullPolicy",
  "tolerateAllTaints",
  "priorityClassName",
  "driftCheckSeconds",
  "rolloutTimeoutSeconds",
  "giveBackTimeoutSeconds",
];

const ARG_KEYS = [
  "registries",
  "nodes",
  "nodeClasses",
  "maxUnavailable",
  "owner",
  "probeMirrors",
  "drift",
  "lockWaitSeconds",
  "cluster",
  "nodeAddress",
  "registryAddon",
  "kubectl",
  "render",
];

/**
 * A cluster's whole registry setup in one resource. It checks the whole declaration first (every problem, with
 * its property path, before any child exists), then wires the parts, each a child named after its role:
 *
 * - `${name}-nodes` (`ClusterRegistries`): every node's registry files over SSH, pointed also at the in-cluster
 *   registry, caches and zot (NodePort, at nodeAddress) and at the addon's `<host>:32000`, without the user
 *   declaring them twice (a clash with the user's own entry is an error);
 * - `${name}-node-classes` (`NodeClassRegistries`): the same files on every node of each node class, from a
 *   DaemonSet per class (nodes that join later too), created first (its own checks run before any other child);
 * - `${name}-registry-addon`: the MicroK8s registry addon;
 * - `${name}-side-load`: image tarballs imported on every node;
 * - `${name}-cluster` (`InClusterRegistries`): hosted registry, caches, zot, the KEP-1755 ConfigMap, after the
 *   nodes are configured and the images side-loaded (their Pods pull through the nodes' configuration);
 * - `${name}-pull-secrets` (`ClusterPullSecrets`): the pull Secrets from the declaration's credentials, and the
 *   ServiceAccounts' `imagePullSecrets`.
 *
 * Kubernetes objects use the Kubernetes provider from the resource options (`provider`/`providers`); the
 * ServiceAccount commands use `kubectl` with the `kubectl` settings, which must name the same cluster.
 */
export class RegistrySetup extends pulumi.ComponentResource {
  /** Each node's summary of its last apply, keyed by node name (holds no secret). */
  public readonly summaries: pulumi.Output<Record<string, ApplySummary>>;
  /** Each node's managed paths, keyed by node name. */
  public readonly files: pulumi.Output<Record<string, NodeFile[]>>;
  /** What the nodes' formats could not express, keyed by node name (only nodes with warnings). */
  public readonly warnings: pulumi.Output<Record<string, NodeWarning[]>>;
  /** The rollout batches of nodes that may restart or reload a service, by node name, in order. */
  public readonly batches: pulumi.Output<string[][]>;
  /** Each node class's managed paths, keyed by class name. */
  public readonly classFiles: pulumi.Output<Record<string, NodeFile[]>>;
  /** What the node classes' formats could not express, keyed by class name (only classes with warnings). */
  public readonly classWarnings: pulumi.Output<Record<string, NodeWarning[]>>;
  /** The node classes' DaemonSets, as namespace/name. */
  public readonly daemonSets: pulumi.Output<string[]>;
  /**
   * Where the in-cluster servers and the addon are reached: registry, cache/UPSTREAM, zot (host:port for NodePort,
   * name.namespace.svc:port for ClusterIP) and registry-addon (host:32000).
   */
  public readonly endpoints: pulumi.Output<Record<string, string>>;
  /** What the in-cluster servers' config renderers left out. */
  public readonly clusterWarnings: pulumi.Output<NodeWarning[]>;
  /** The KEP-1755 localRegistryHosting.v1 document published in kube-public, if declared. */
  public readonly localRegistryHosting: pulumi.Output<string | undefined>;
  /** The pull Secrets, as namespace/name. */
  public readonly pullSecrets: pulumi.Output<string[]>;
  /** What each ServiceAccount command reported on its last run. */
  public readonly serviceAccounts: pulumi.Output<ServiceAccountResult[]>;
  /** The image references each node imported, by node name. */
  public readonly sideLoaded: pulumi.Output<Record<string, string[]>>;
  /** kind configuration, when render lists kind (secret when it holds a credential). */
  public readonly kind: pulumi.Output<KindOutput | undefined>;
  /** Talos configuration, when render lists talos (secret when it holds a credential). */
  public readonly talos: pulumi.Output<TalosOutput | undefined>;
  /** Anthos registryMirrors, when render lists anthos (secret when a file holds a credential). */
  public readonly anthos: pulumi.Output<AnthosOutput | undefined>;
  /** k0s configuration, when render lists k0s (secret when a file holds a credential). */
  public readonly k0s: pulumi.Output<K0sOutput | undefined>;
  /** kubeadm imageRepository, when render lists kubeadm. */
  public readonly kubeadm: pulumi.Output<KubeadmOutput | undefined>;

  /**
   * @param name the component's name; children are `${name}-<role>`.
   * @param args the whole declaration.
   * @param opts resource options (`provider`/`providers` pick the Kubernetes cluster).
   */
  constructor(name: string, args: RegistrySetupArgs, opts?: pulumi.ComponentResourceOptions) {
    // The type token never changes once released: a new token is a new resource type (everything replaced).
    super("registry-setup:index:RegistrySetup", name, {}, opts);
    const parts =
      (args as unknown as Record<symbol, ClusterParts | undefined>)[PARTS] ?? REGISTRY_SETUP_PARTS;
    const problems = new Problems();
    for (const key of Object.keys(args)) {
      if (!ARG_KEYS.includes(key))
        problems.add(key, `is not an argument of RegistrySetup (known: ${ARG_KEYS.join(", ")})`);
    }

    // The nodes and the settings they share (ClusterRegistries' own checks).
    // An empty list is no SSH node at all, as when `nodes` is left out (node classes, or the cluster side only).
    const nodes = Array.isArray(args.nodes) ? args.nodes : [];
    const nodeArgs = { ...args, nodes };
    const checked =
      args.nodes !== undefined && !(Array.isArray(args.nodes) && args.nodes.length === 0)
        ? checkClusterArgs(problems, nodeArgs)
        : { settings: checkSettings(problems, args), maxUnavailable: 1 };

    // The cluster side, checked against the user's declaration as far as it is known now.
    const userKnown = knownModel(args.registries);
    let cluster: ClusterModel | undefined;
    if (args.cluster !== undefined) {
      try {
        cluster = normalizeCluster(args.cluster, {
          ...(userKnown ? { registries: userKnown } : {}),
          registriesUnknown: userKnown === undefined,
        });
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        e.problems.forEach((p) => problems.add(p.path, p.message));
      }
    }
    const classes = args.nodeClasses;
    if (
      classes !== undefined &&
      (classes === null || typeof classes !== "object" || Array.isArray(classes))
    ) {
      problems.add("nodeClasses", "must be an object { classes, namespace, image, … }");
    } else if (classes !== undefined) {
      for (const key of Object.keys(classes)) {
        if (key !== "classes" && !NODE_CLASS_KEYS.includes(key)) {
          problems.add(
            `nodeClasses.${key}`,
            `is not a node-classes setting (known: classes, ${NODE_CLASS_KEYS.join(", ")})`,
          );
        }
      }
    }
    const needsAddress =
      cluster !== undefined && hasServers(cluster) && (nodes.length > 0 || classes !== undefined);
    const nodeAddress = checkNodeAddress(problems, args.nodeAddress, nodes, needsAddress);
    const addon = checkAddon(problems, args.registryAddon, nodes, cluster);
    if (args.registryAddon !== undefined && !parts.registryAddon) {
      problems.add(
        "registryAddon",
        "this build of the library has no MicroK8s registry addon component (components/resources/microk8sAddon.ts): drop registryAddon or use a version that has it",
      );
    }
    const sideLoads = cluster?.sideLoads ?? [];
    if (sideLoads.length > 0 && nodes.length === 0) {
      problems.add("cluster.sideLoads", "needs nodes: the tarballs are copied to every node over SSH");
    } else if (sideLoads.length > 0 && !parts.sideLoad) {
      problems.add(
        "cluster.sideLoads",
        "this build of the library has no side-load component (components/resources/sideLoad.ts): drop sideLoads or use a version that has it",
      );
    }
    // The tarballs are read now, so that a missing or wrong one stops everything before any child exists.
    let sideLoadChecked: CheckedSideLoad | undefined;
    if (sideLoads.length > 0 && nodes.length > 0 && parts.sideLoad === SideLoad) {
      const found = new Problems();
      sideLoadChecked = checkSideLoad(found, {
        nodes,
        images: sideLoads.map((s) => ({ path: s.path, format: s.format })),
        ...(args.owner !== undefined ? { owner: args.owner } : {}),
      });
      const seen = new Set(problems.all.map((p) => `${p.path}\0${p.message}`));
      for (const p of found.all) {
        // The nodes and the owner are RegistrySetup's own, already checked: only what is new about them is added.
        const path = p.path.replace(/^images\[/, "cluster.sideLoads[");
        if (!seen.has(`${path}\0${p.message}`) && !/^nodes\[\d+\]\.name$|^owner$/.test(path))
          problems.add(path, p.message);
      }
    }
    const kubectl = checkKubectl(
      problems,
      args.kubectl,
      cluster,
      args.cluster !== undefined,
      classes !== undefined,
    );
    const targets = checkRender(problems, args.render);

    // Point the nodes at what runs in the cluster, then prepare the merged declaration once for every part.
    const { registries: merged, prepended } = mergeDeclaration(
      problems,
      args.registries,
      addedEntries(cluster, nodeAddress, addon?.endpoint),
      this,
    );
    // Every problem at once: the declaration's own are reported with the rest (a conflict above left the user's
    // entry in place and added nothing, so nothing is reported twice).
    // Problems about the merged declaration are reported at the paths the user wrote.
    const toUser = userMirrorPath(prepended);
    const prep = prepareDeclaration(merged, this, "registries", toUser);
    prep.problems.forEach((p) => problems.add(p.path, p.message));
    if (!prep.prepared) throwProblems(problems, this);
    const prepared = prep.prepared!;
    const plain = knownPart(merged).pending.length === 0;
    if (targets.length > 0 && prepared.known && plain) {
      try {
        renderTargets(prepared.known, targets);
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        e.problems.forEach((p) => problems.add(toUser(p.path), p.message));
      }
    }
    // Planning needs valid nodes and settings; their problems are already recorded otherwise.
    const planning = new Problems();
    const nodeParts =
      nodes.length > 0 && problems.count === 0
        ? planClusterParts(planning, prepared, nodes, checked.settings)
        : undefined;
    planning.all.forEach((p) => problems.add(toUser(p.path), p.message));
    throwProblems(problems, this);

    // Everything is checked: the children.
    const secret = pulumi.isSecret(pulumi.output(merged as pulumi.Input<RegistriesArgs>));
    const content = prepared.model.apply(async (registries) => {
      const normalize = () => normalizeCluster(args.cluster ?? {}, { registries });
      try {
        return { cluster: (await secret) ? withValuesHidden(normalize) : normalize(), registries };
      } catch (e) {
        if (e instanceof ConfigError) throw new pulumi.ResourceError(e.message, this);
        throw e;
      }
    });

    // Node classes first: NodeClassRegistries checks its own settings and classes in its constructor, so a problem
    // there stops the program before any other child exists.
    let classesPart: NodeClassRegistries | undefined;
    if (classes) {
      const problemPath = (p: string): string => {
        const head = p.split(/[.[]/, 1)[0];
        if (NODE_CLASS_KEYS.includes(head)) return `nodeClasses.${p}`;
        if (p === "kubeconfig") return "kubectl.kubeconfig";
        if (p === "kubeContext") return "kubectl.context";
        return p;
      };
      // Child names must never change once released: a new name is a new resource (every node given back, redone).
      classesPart = new NodeClassRegistries(
        `${name}-node-classes`,
        Object.assign(
          {
            ...classes,
            registries: merged,
            ...nodeSettings(args),
            ...(kubectl?.kubeconfig !== undefined ? { kubeconfig: kubectl.kubeconfig } : {}),
            ...(kubectl?.context !== undefined ? { kubeContext: kubectl.context } : {}),
          },
          { [PREPARED]: { prepared, path: "nodeClasses.classes", problemPath } },
        ),
        { parent: this },
      );
    }

    let nodesPart: ClusterRegistries | undefined;
    if (nodeParts) {
      // Child names must never change once released: a new name is a new resource (everything given back, redone).
      nodesPart = new ClusterRegistries(
        `${name}-nodes`,
        Object.assign(
          { registries: merged, nodes, maxUnavailable: checked.maxUnavailable, ...nodeSettings(args) },
          { [VALIDATED]: { ...checked, prepared, parts: nodeParts } },
        ),
        { parent: this },
      );
    }
    let addonEndpoint: pulumi.Output<string> | undefined;
    if (addon && parts.registryAddon) {
      const wired = wireRegistryAddon(this, name, parts.registryAddon, addon.args, addon.endpoint, nodesPart);
      addonEndpoint = wired.endpoint;
    }
    let sideLoad: SideLoadPart | undefined;
    if (sideLoads.length > 0 && parts.sideLoad) {
      sideLoad = wireSideLoads(
        this,
        name,
        parts.sideLoad,
        Object.assign(
          {
            nodes,
            images: sideLoads.map((s) => ({ path: s.path, format: s.format })),
            owner: checked.settings.owner,
          },
          sideLoadChecked ? { [CHECKED]: sideLoadChecked } : {},
        ),
      );
    }
    let servers: InClusterRegistries | undefined;
    if (cluster && hasServers(cluster)) {
      // Their Pods pull through the nodes' configuration, and may need side-loaded images (air-gapped clusters).
      const after = [nodesPart, classesPart, sideLoad].filter(
        (r): r is NonNullable<typeof r> => r !== undefined,
      );
      servers = new InClusterRegistries(
        `${name}-cluster`,
        { structure: cluster, content, ...(nodeAddress !== undefined ? { nodeAddress } : {}) },
        { parent: this, dependsOn: after },
      );
    }
    let secrets: ClusterPullSecrets | undefined;
    if (cluster?.pullSecrets) {
      secrets = new ClusterPullSecrets(
        `${name}-pull-secrets`,
        {
          structure: cluster.pullSecrets,
          content,
          owner: checked.settings.owner,
          ...(kubectl ? { kubectl } : {}),
          namespaces: namespacesOf(servers),
        },
        { parent: this },
      );
    }

    this.summaries = nodesPart?.summaries ?? pulumi.output<Record<string, ApplySummary>>({});
    this.files = nodesPart?.files ?? pulumi.output<Record<string, NodeFile[]>>({});
    this.warnings = nodesPart?.warnings ?? pulumi.output<Record<string, NodeWarning[]>>({});
    this.batches = nodesPart?.batches ?? pulumi.output([]);
    this.classFiles = classesPart?.files ?? pulumi.output<Record<string, NodeFile[]>>({});
    this.classWarnings = classesPart?.warnings ?? pulumi.output<Record<string, NodeWarning[]>>({});
    this.daemonSets = classesPart?.daemonSets ?? pulumi.output<string[]>([]);
    const serverEndpoints = servers?.endpoints ?? pulumi.output<Record<string, string>>({});
    this.endpoints = pulumi
      .all([serverEndpoints, addonEndpoint ?? pulumi.output(undefined)])
      .apply(([e, a]): Record<string, string> => ({
        ...e,
        ...(a !== undefined ? { "registry-addon": a } : {}),
      }));
    this.clusterWarnings = servers?.warnings ?? pulumi.output([]);
    this.localRegistryHosting = servers?.localRegistryHosting ?? pulumi.output(undefined);
    this.pullSecrets = secrets?.secrets ?? pulumi.output([]);
    this.serviceAccounts = (secrets?.serviceAccounts ?? pulumi.output([])).apply((list) =>
      list.map((s) => ({
        serviceAccount: s.serviceAccount,
        changed: s.changed,
        recorded: s.recorded,
        imagePullSecrets: s.imagePullSecrets,
      })),
    );
    this.sideLoaded = sideLoad?.imported ?? pulumi.output<Record<string, string[]>>({});

    const rendered = prepared.model.apply((m): RenderedTargets => {
      try {
        return renderTargets(m, targets);
      } catch (e) {
        if (e instanceof ConfigError) {
          const mapped = new ConfigError(e.problems.map((p) => ({ ...p, path: toUser(p.path) })));
          throw new pulumi.ResourceError(mapped.message, this);
        }
        throw e;
      }
    });
    const pick = <K extends keyof RenderedTargets>(k: K) =>
      // Secret exactly when that target holds a credential, whatever else of the declaration was secret.
      pulumi.unsecret(rendered).apply((r) => {
        const t = r[k];
        if (t === undefined) return pulumi.output(undefined);
        return t.secret ? pulumi.secret(t.value) : pulumi.output(t.value);
      }) as pulumi.Output<NonNullable<RenderedTargets[K]>["value"] | undefined>;
    this.kind = pick("kind");
    this.talos = pick("talos");
    this.anthos = pick("anthos");
    this.k0s = pick("k0s");
    this.kubeadm = pick("kubeadm");

    this.registerOutputs({
      summaries: this.summaries,
      files: this.files,
      warnings: this.warnings,
      batches: this.batches,
      classFiles: this.classFiles,
      classWarnings: this.classWarnings,
      daemonSets: this.daemonSets,
      endpoints: this.endpoints,
      clusterWarnings: this.clusterWarnings,
      localRegistryHosting: this.localRegistryHosting,
      pullSecrets: this.pullSecrets,
      serviceAccounts: this.serviceAccounts,
      sideLoaded: this.sideLoaded,
      kind: this.kind,
      talos: this.talos,
      anthos: this.anthos,
      k0s: this.k0s,
      kubeadm: this.kubeadm,
    });
  }
}

/** The node settings the user gave (ClusterRegistries applies its own defaults). */
function nodeSettings(args: RegistrySetupArgs) {
  const out: Partial<Pick<RegistrySetupArgs, "owner" | "probeMirrors" | "drift" | "lockWaitSeconds">> = {};
  if (args.owner !== undefined) out.owner = args.owner;
  if (args.probeMirrors !== undefined) out.probeMirrors = args.probeMirrors;
  if (args.drift !== undefined) out.drift = args.drift;
  if (args.lockWaitSeconds !== undefined) out.lockWaitSeconds = args.lockWaitSeconds;
  return out;
}

/**
 * The user's declaration as far as it is known now, for the cluster side's checks; undefined when it is an Output
 * or invalid (its problems are reported once, from the merged declaration).
 */
function knownModel(registries: RegistriesInput | undefined): RegistryModel | undefined {
  if (registries === undefined) return { registries: [] };
  if (pulumi.Output.isInstance(registries)) return undefined;
  try {
    return normalizeRegistries(knownPart(registries).value as RegistriesArgs);
  } catch (e) {
    if (e instanceof ConfigError) return undefined;
    throw e;
  }
}
