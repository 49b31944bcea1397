/**
 * The arguments and output shapes of `RegistrySetup` (what Pulumi's schema inference sees: plain interfaces, enums
 * as `as const` objects, no unions).
 *
 * @module
 */
import { RegistriesInput } from "../inputs/types";
import { ClusterArgs } from "../model/cluster";
import { KubectlArgs } from "./clusterPullSecrets";
import { ClusterNode, DriftMode } from "./node";
import { NodeClassesArgs } from "./nodeClassRegistries";

export { NodeClassesArgs } from "./nodeClassRegistries";
import { RenderTarget } from "./renderTargets";

/** The MicroK8s registry addon (`microk8s enable registry`) on one node. */
export interface RegistryAddonArgs {
  /** Name of the node (in nodes) that enables it: a MicroK8s control-plane node. Defaults to the first node. */
  node?: string;
  /** Size of the registry's volume, a whole number of Gi from 20 up (MicroK8s' rule), e.g. "40Gi". Defaults to "20Gi". */
  size?: string;
  /** StorageClass of the volume. Defaults to MicroK8s' hostpath-storage. */
  storageClass?: string;
  /** Keep the registry's volume (and so its images) when the addon is disabled on destroy. Defaults to false. */
  keepData?: boolean;
}

/** Arguments of RegistrySetup. */
export interface RegistrySetupArgs {
  /**
   * The registries every node must use, keyed by the name images use. Passwords and keys may be secret Outputs.
   * The in-cluster servers and the addon are added for the nodes: do not declare them again.
   */
  registries?: RegistriesInput;
  /** The nodes reached over SSH. Defaults to none (then only the cluster objects and the rendered outputs exist). */
  nodes?: ClusterNode[];
  /** Node classes configured by DaemonSets from inside the cluster; may be combined with SSH nodes. */
  nodeClasses?: NodeClassesArgs;
  /** How many nodes may restart or reload a service at the same time. Defaults to 1. */
  maxUnavailable?: number;
  /**
   * Who owns what this setup writes: the nodes' state and managed blocks, and the annotation that records what it
   * added to a ServiceAccount. Two stacks that manage the same nodes or ServiceAccounts need different owners.
   * Defaults to "registries".
   */
  owner?: string;
  /** Check from each node that every mirror answers GET /v2/ before pointing it there. Defaults to false. */
  probeMirrors?: boolean;
  /** What to do with managed node files edited by hand: overwrite (and report) or fail. Defaults to overwrite. */
  drift?: DriftMode;
  /** How long a node apply waits for another one on the same node, in seconds (0–3600). Defaults to 120. */
  lockWaitSeconds?: number;
  /** The cluster side: in-cluster registry, caches, zot, KEP-1755, pull Secrets and ServiceAccounts, side-loads. */
  cluster?: ClusterArgs;
  /**
   * The address (host name or IP, no port) nodes reach NodePort Services at: nodes are pointed at
   * "nodeAddress:nodePort" for the in-cluster registry and caches. Defaults to the first node's connection host.
   */
  nodeAddress?: string;
  /** The MicroK8s registry addon, enabled over SSH on one node; every node trusts its endpoint. */
  registryAddon?: RegistryAddonArgs;
  /** How kubectl runs on the machine that runs Pulumi (ServiceAccount patches, the node classes' give-back). */
  kubectl?: KubectlArgs;
  /** Systems whose registry configuration to render as outputs (kind, talos, anthos, k0s, kubeadm). */
  render?: RenderTarget[];
}

/** What a ServiceAccount command reported. */
export interface ServiceAccountResult {
  /** The ServiceAccount, as namespace/name. */
  serviceAccount: string;
  /** Whether the last run wrote it. */
  changed: boolean;
  /** The Secret names this setup added and owns there. */
  recorded: string[];
  /** Its imagePullSecrets after the last run. */
  imagePullSecrets: string[];
}
