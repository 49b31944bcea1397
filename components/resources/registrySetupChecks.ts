/**
 * `RegistrySetup`'s own checks (node address, addon, kubectl, render targets): every problem is recorded with its
 * property path before any child is registered.
 *
 * @module
 * @internal
 */
import * as pulumi from "@pulumi/pulumi";
import { ClusterModel, DEFAULT_CLUSTER_NAMESPACE, ServiceAccountMode, ServiceType } from "../model/cluster";
import { DNS_SUBDOMAIN_RE } from "../model/clusterFields";
import { keyPath, Problems, show } from "../model/errors";
import { isObject, optionalBoolean, unknownKeys } from "../model/fields";
import { parseAuthority } from "../model/grammar";
import { ADDON_NODE_PORT, RegistryAddonPartArgs } from "./clusterParts";
import { KubectlArgs } from "./clusterPullSecrets";
import { ClusterNode } from "./node";
import { RenderTarget } from "./renderTargets";

/** MicroK8s' own rule for the addon's size (core addons `addons/registry/enable`, `REGEX_DISK_SIZE`): ≥ 20Gi. */
export const ADDON_SIZE_RE = /^([2-9][0-9]{1,}|[1-9][0-9]{2,})Gi$/;

/** `registryAddon` as users write it (see `RegistryAddonArgs` in registrySetup.ts). */
interface AddonInput {
  node?: unknown;
  size?: unknown;
  storageClass?: unknown;
  keepData?: unknown;
}

/** A node's plain host, or undefined when it is not known at construction. */
function plainHost(node: ClusterNode | undefined): string | undefined {
  const c = node?.connection as unknown;
  if (!isObject(c) || pulumi.Output.isInstance(c)) return undefined;
  return typeof c.host === "string" ? c.host : undefined;
}

/** A host usable in a registry name (`host`, no port; IPv6 in brackets). */
function registryHost(host: string): string | undefined {
  const a = parseAuthority(host);
  return typeof a === "string" || a.port !== undefined ? undefined : a.hostname;
}

/**
 * The address nodes reach NodePort Services at: `nodeAddress`, else the first node's host. Undefined (without a
 * problem) when nothing needs one.
 */
export function checkNodeAddress(
  problems: Problems,
  nodeAddress: unknown,
  nodes: ClusterNode[],
  needed: boolean,
): string | undefined {
  if (nodeAddress !== undefined) {
    const h = typeof nodeAddress === "string" ? registryHost(nodeAddress) : undefined;
    if (h === undefined) {
      problems.add(
        "nodeAddress",
        `${show(nodeAddress)} must be a node's host name or IP address without a port (IPv6 in brackets, e.g. "[fd00::1]")`,
      );
    }
    return h;
  }
  if (!needed) return undefined;
  if (nodes.length === 0) {
    problems.add(
      "nodeAddress",
      "is required: node classes are pointed at NodePort Services in the cluster; give any node's address",
    );
    return undefined;
  }
  const first = plainHost(nodes[0]);
  const h = first === undefined ? undefined : registryHost(first);
  if (h === undefined) {
    problems.add(
      "nodeAddress",
      `is required: nodes are pointed at NodePort Services in the cluster, and nodes[0].connection.host ${first === undefined ? "is not known at construction" : `${show(first)} is not usable in a registry name`}; give any node's address`,
    );
  }
  return h;
}

/** Check `registryAddon`; the addon component's arguments and the endpoint it will have, or undefined. */
export function checkAddon(
  problems: Problems,
  input: unknown,
  nodes: ClusterNode[],
  cluster: ClusterModel | undefined,
): { args: RegistryAddonPartArgs; endpoint: string } | undefined {
  if (input === undefined) return undefined;
  const path = "registryAddon";
  if (!isObject(input)) {
    problems.add(path, `must be an object { node, size, storageClass, keepData }, got ${show(input)}`);
    return undefined;
  }
  unknownKeys(problems, path, input, ["node", "size", "storageClass", "keepData"]);
  const a = input as AddonInput;
  const before = problems.count;
  let node: ClusterNode | undefined;
  if (nodes.length === 0) {
    problems.add(path, `needs nodes: the addon is enabled over SSH on one of them`);
  } else if (a.node === undefined) {
    node = nodes[0];
  } else {
    node = nodes.find((n) => n?.name === a.node);
    if (!node) {
      problems.add(
        `${path}.node`,
        `${show(a.node)} is not a node of nodes (known: ${nodes.map((n) => show(n?.name)).join(", ")})`,
      );
    }
  }
  if (node && !(Array.isArray(node.profiles) && node.profiles.some((p) => p?.kind === "microk8s"))) {
    problems.add(
      `${path}.node`,
      `${show(node.name)} has no microk8s profile: the registry addon exists only on MicroK8s`,
    );
  }
  const host = node ? plainHost(node) : undefined;
  const regHost = host === undefined ? undefined : registryHost(host);
  if (node && regHost === undefined) {
    problems.add(
      `${path}.node`,
      `${show(node.name)}'s connection.host must be known at construction and usable in a registry name: every node is pointed at <host>:${ADDON_NODE_PORT}`,
    );
  }
  const size = a.size ?? "20Gi";
  if (typeof size !== "string" || !ADDON_SIZE_RE.test(size)) {
    problems.add(
      `${path}.size`,
      `${show(size)} must be a whole number of Gi from 20 up, e.g. "40Gi" (MicroK8s refuses anything else)`,
    );
  }
  if (
    a.storageClass !== undefined &&
    (typeof a.storageClass !== "string" || !DNS_SUBDOMAIN_RE.test(a.storageClass))
  ) {
    problems.add(
      `${path}.storageClass`,
      `${show(a.storageClass)} is not a StorageClass name (lowercase DNS subdomain)`,
    );
  }
  const keepData = optionalBoolean(problems, `${path}.keepData`, a.keepData);

  // What the addon makes (namespace container-registry, Deployment and Service registry on :32000, the
  // local-registry-hosting ConfigMap) must not be declared a second time.
  if (cluster) {
    const servers = [
      ...(cluster.registry ? [["cluster.registry", cluster.registry] as const] : []),
      ...cluster.caches.map((c) => [keyPath("cluster.caches", c.proxy?.upstream ?? c.name), c] as const),
      ...(cluster.zot ? [["cluster.zot", cluster.zot] as const] : []),
    ];
    for (const [p, s] of servers) {
      if (s.service.type === ServiceType.NodePort && s.service.nodePort === ADDON_NODE_PORT) {
        problems.add(
          `${p}.service.nodePort`,
          `${ADDON_NODE_PORT} is the registry addon's node port: pick another`,
        );
      }
      if (s.namespace === DEFAULT_CLUSTER_NAMESPACE) {
        problems.add(
          `${p}.namespace`,
          `${show(DEFAULT_CLUSTER_NAMESPACE)} belongs to the registry addon (disabling it deletes the namespace): pick another`,
        );
      }
    }
    if (cluster.localRegistryHosting) {
      problems.add(
        "cluster.localRegistryHosting",
        `the registry addon publishes its own local-registry-hosting ConfigMap: drop this`,
      );
    }
  }
  if (problems.count !== before || !node || !regHost) return undefined;
  return {
    args: {
      node,
      size: size as string,
      ...(a.storageClass !== undefined ? { storageClass: a.storageClass as string } : {}),
      ...(keepData !== undefined ? { keepData } : {}),
    },
    endpoint: `${regHost}:${ADDON_NODE_PORT}`,
  };
}

/** Check `kubectl` (only meaningful when ServiceAccounts are patched). */
export function checkKubectl(
  problems: Problems,
  input: unknown,
  cluster: ClusterModel | undefined,
  clusterDeclared: boolean,
  nodeClasses = false,
): KubectlArgs | undefined {
  if (input === undefined) return undefined;
  if (!isObject(input)) {
    problems.add("kubectl", `must be an object { kubeconfig, context, waitSeconds }, got ${show(input)}`);
    return undefined;
  }
  unknownKeys(problems, "kubectl", input, ["kubeconfig", "context", "waitSeconds"]);
  for (const key of ["kubeconfig", "context"] as const) {
    const v = input[key];
    if (v !== undefined && (typeof v !== "string" || v.trim() === "" || /[\0\n\r]/.test(v))) {
      problems.add(`kubectl.${key}`, `${show(v)} must be a non-empty string on one line`);
    }
  }
  const w = input.waitSeconds;
  if (w !== undefined && (typeof w !== "number" || !Number.isInteger(w) || w < 0 || w > 600)) {
    problems.add("kubectl.waitSeconds", `${show(w)} must be a whole number of seconds from 0 to 600`);
  }
  const ps = cluster?.pullSecrets;
  // (A cluster side that did not normalise has its own problems: no second guess about it here.)
  const unused = clusterDeclared
    ? cluster !== undefined &&
      (!ps || ps.mode !== ServiceAccountMode.Patch || ps.serviceAccounts.length === 0)
    : true;
  if (unused && !nodeClasses) {
    problems.add(
      "kubectl",
      `is only used to patch ServiceAccounts (cluster.pullSecrets in "patch" mode) and by nodeClasses: drop it`,
    );
  }
  return input as KubectlArgs;
}

/** Check `render`. */
export function checkRender(problems: Problems, input: unknown): RenderTarget[] {
  if (input === undefined) return [];
  const known = Object.values(RenderTarget) as string[];
  if (!Array.isArray(input)) {
    problems.add("render", `must be a list of ${known.map((k) => show(k)).join(", ")}, got ${show(input)}`);
    return [];
  }
  const out: RenderTarget[] = [];
  input.forEach((t, i) => {
    if (typeof t !== "string" || !known.includes(t)) {
      problems.add(
        `render[${i}]`,
        `${show(t)} is not a render target: use one of ${known.map((k) => show(k)).join(", ")}`,
      );
    } else if (out.includes(t as RenderTarget)) {
      problems.add(`render[${i}]`, `${show(t)} is listed twice: drop one`);
    } else out.push(t as RenderTarget);
  });
  return out;
}
