/**
 * `MicroK8sRegistryAddon`: MicroK8s' own registry addon (`microk8s enable registry`) on one node, over SSH, verified
 * after enabling, refused when its size would have to change, and disabled on destroy (its data kept on request).
 *
 * @module
 */
import * as pulumi from "@pulumi/pulumi";
import { Problems, show } from "../model/errors";
import { optionalBoolean } from "../model/fields";
import { SshTransport } from "../transport/ssh";
import { checkNode, checkSettings, ClusterNode } from "./node";
import { throwProblems, warnWithoutHostKey } from "./problems";
import { componentScript, shSettings } from "./scripts";

/** Arguments of `MicroK8sRegistryAddon`. */
export interface MicroK8sRegistryAddonArgs {
  /**
   * The MicroK8s node that enables the addon: a control-plane node (a node that joined as a worker refuses `microk8s
   * enable`). Its profiles must include `microk8s`; `sudo: true` runs the commands through `sudo -n`.
   */
  node: ClusterNode;
  /**
   * Size of the registry's PersistentVolumeClaim: a whole number of Gi, at least 20 (the addon's own rule), e.g.
   * `"40Gi"`. Never resized: enabling the addon again does not change the claim, and hostpath volumes cannot grow,
   * so a different size on an update is refused (declare the old size, or replace the resource, which disables the
   * addon first).
   */
  size: string;
  /**
   * StorageClass of the claim (`--storageclass`). Defaults to the cluster's default class; without one the addon
   * enables `hostpath-storage` first. The class must provision ReadWriteMany claims, or the claim stays Pending
   * (and the apply fails after waiting for it).
   */
  storageClass?: string;
  /**
   * Keep the registry's volume when the addon is disabled: its reclaim policy is set to Retain first, so the volume
   * and its images outlive the claim (as a Released volume). Enabling the addon again does not re-attach it.
   * Defaults to `false`: `microk8s disable registry` deletes the claim, and a hostpath volume (reclaim policy
   * Delete) with it, images included.
   */
  keepData?: boolean;
}

/** Internal settings the rig tests use to run a stand-in `microk8s`; not part of the public arguments. */
export interface MicroK8sAddonHooks {
  /** Absolute path of the `microk8s` command. Defaults to `/snap/bin/microk8s`. */
  microk8s?: string;
  /** How long to wait for the registry to be ready, in seconds. Defaults to 300. */
  timeoutSeconds?: number;
}
/** Where `MicroK8sAddonHooks` travel (a symbol key: the schema never sees it). */
export const MICROK8S_ADDON_HOOKS = Symbol.for("registry-setup:microk8s-addon-hooks");

/** The addon's node port (fixed in its manifest). */
export const MICROK8S_REGISTRY_PORT = 32000;

/** MicroK8s' own rule for the registry's size (`addons/registry/enable`, REGEX_DISK_SIZE), anchored at both ends. */
const SIZE_RE = /^(?:[2-9][0-9]+|[1-9][0-9]{2,})Gi$/;
const K8S_NAME_RE = /^[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?$/;
const HOST_RE =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|[0-9A-Fa-f:.]+)$/;

/** `<host>:32000`, with an IPv6 address in brackets; throws for something that is not a host. */
export function addonEndpoint(host: string): string {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (!HOST_RE.test(bare)) {
    throw new Error(`node.connection.host ${show(host)} is not a host name or IP address`);
  }
  return `${bare.includes(":") ? `[${bare}]` : bare}:${MICROK8S_REGISTRY_PORT}`;
}

/**
 * MicroK8s' registry addon on one node: `microk8s enable registry --size <N>Gi [--storageclass X]`, then a check that
 * the Deployment `container-registry/registry` is ready and its claim `registry-claim` Bound (some MicroK8s versions
 * print an error and still exit 0). The registry answers on every node at port 32000; `endpoint` is
 * `<node host>:32000`, for the plain-HTTP hosts files of every node (`{ [endpoint]: { plainHttp: true } }`).
 *
 * Updates: the same size re-checks the registry; another size or class is refused (the addon never resizes).
 * Destroy: `microk8s disable registry` deletes the namespace and the claim; with a hostpath volume (reclaim policy
 * Delete) the images are deleted with it. `keepData: true` sets the volume's reclaim policy to Retain first.
 *
 * @example
 * const addon = new MicroK8sRegistryAddon("registry", { node: nodes[0], size: "40Gi" });
 * new ClusterRegistries("nodes", { nodes, registries: addon.endpoint.apply((e) => ({ [e]: { plainHttp: true } })) });
 */
export class MicroK8sRegistryAddon extends pulumi.ComponentResource {
  /** `<node host>:32000`: where every node of the cluster reaches the registry (plain HTTP). */
  public readonly endpoint: pulumi.Output<string>;

  /**
   * @param name the component's name; the command that enables the addon is `${name}-addon`.
   * @param args the node, the size, the storage class and what to do with the data on destroy.
   * @param opts resource options.
   */
  constructor(name: string, args: MicroK8sRegistryAddonArgs, opts?: pulumi.ComponentResourceOptions) {
    // The type token never changes once released: a new token is a new resource type (everything replaced).
    super("registry-setup:index:MicroK8sRegistryAddon", name, {}, opts);
    const hooks =
      (args as unknown as Record<symbol, MicroK8sAddonHooks | undefined>)[MICROK8S_ADDON_HOOKS] ?? {};
    const problems = new Problems();
    for (const key of Object.keys(args ?? {})) {
      if (!["node", "size", "storageClass", "keepData"].includes(key)) {
        problems.add(
          key,
          "is not an argument of MicroK8sRegistryAddon (known: node, size, storageClass, keepData)",
        );
      }
    }
    if (typeof args.size !== "string" || !SIZE_RE.test(args.size)) {
      problems.add(
        "size",
        `${show(args.size)} is not allowed: MicroK8s' registry addon takes a whole number of Gi, at least 20 (its rule: (^[2-9][0-9]{1,}|^[1-9][0-9]{2,})(Gi$)), e.g. "40Gi"`,
      );
    }
    if (
      args.storageClass !== undefined &&
      (typeof args.storageClass !== "string" || !K8S_NAME_RE.test(args.storageClass))
    ) {
      problems.add(
        "storageClass",
        `${show(args.storageClass)} is not a StorageClass name (lower-case letters, digits, "-" and ".")`,
      );
    }
    const keepData = optionalBoolean(problems, "keepData", args.keepData) ?? false;
    const settings = checkSettings(problems, {});
    checkNode(problems, args.node, "node", settings);
    const profiles: unknown = args.node?.profiles;
    if (Array.isArray(profiles) && !profiles.some((p) => (p as { kind?: unknown })?.kind === "microk8s")) {
      problems.add("node.profiles", `has no microk8s profile: the registry addon runs on a MicroK8s node`);
    }
    const microk8s = hooks.microk8s ?? "/snap/bin/microk8s";
    const timeout = hooks.timeoutSeconds ?? 300;
    if (!/^(\/[A-Za-z0-9._+-]+)+$/.test(microk8s))
      problems.add("microk8s", `${show(microk8s)} must be an absolute path`);
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > 3600) {
      problems.add("timeoutSeconds", `${show(timeout)} must be a whole number of seconds from 1 to 3600`);
    }
    const node = args.node;
    if (typeof node?.connection?.host === "string") {
      try {
        addonEndpoint(node.connection.host);
      } catch {
        problems.add(
          "node.connection.host",
          `${show(node.connection.host)} is not a host name or IP address`,
        );
      }
    }
    throwProblems(problems, this);
    warnWithoutHostKey(node, this);

    const script = componentScript(
      "microk8sAddon",
      shSettings({
        A_MICROK8S: microk8s,
        A_SIZE: args.size,
        A_CLASS: args.storageClass ?? "",
        A_KEEP: keepData ? 1 : 0,
        A_TIMEOUT: timeout,
        A_NAME: `${name}-addon`,
        S_LOCK_WAIT: settings.lockWaitSeconds,
      }),
    );
    // Child names must never change once released: a new name is a new resource (disables, then enables again).
    new SshTransport(node.connection).deliver(
      // No replaceOn: a size or class change must be refused by the script, never turned into a silent re-create
      // (that would delete the registry's images).
      { name: `${name}-addon`, script: pulumi.output(script), sudo: node.sudo ?? false, replaceOn: [] },
      { parent: this, ...(opts?.dependsOn ? { dependsOn: opts.dependsOn } : {}) },
    );
    // Known before anything runs (nodes can be pointed at it in the same preview); depend on this component to wait
    // until the registry is ready.
    // Only the host: the connection holds the private key, and an Output of all of it would make the endpoint secret.
    const conn = node.connection as pulumi.Input<{ host: pulumi.Input<string> }>;
    const host = pulumi.Output.isInstance(conn)
      ? conn.apply((c) => pulumi.output(c.host))
      : pulumi.output((conn as { host: pulumi.Input<string> }).host);
    this.endpoint = host.apply((host) => {
      try {
        return addonEndpoint(host);
      } catch (e) {
        throw new pulumi.ResourceError((e as Error).message, this);
      }
    });
    this.registerOutputs({ endpoint: this.endpoint });
  }
}
