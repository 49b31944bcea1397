/**
 * The seam between `RegistrySetup` and the two components built beside it: the MicroK8s registry addon
 * (`components/resources/microk8sAddon.ts`, `MicroK8sRegistryAddon`) and side-loading
 * (`components/resources/sideLoad.ts`, `SideLoad`). `RegistrySetup` talks to them only through the shapes below
 * and the two wiring functions, so the wiring is tested with stand-in constructors and the real components plug in
 * by name (see `REGISTRY_SETUP_PARTS` in registrySetup.ts).
 *
 * @module
 * @internal
 */
import * as pulumi from "@pulumi/pulumi";
import { SideLoadArgs } from "../model/cluster";
import { ClusterNode } from "./node";

/** The node port of MicroK8s' registry addon (its Service `container-registry/registry`). */
export const ADDON_NODE_PORT = 32000;

/** Arguments of `MicroK8sRegistryAddon` (the shape its component takes). */
export interface RegistryAddonPartArgs {
  /** The node that runs `microk8s enable registry` (sudo as `node.sudo` says). */
  node: ClusterNode;
  /** The claim's size, e.g. `"40Gi"`. */
  size: string;
  /** The StorageClass; MicroK8s' default (hostpath-storage) when absent. */
  storageClass?: string;
  /** Keep the registry's volume when the addon is disabled. */
  keepData?: boolean;
}

/** What `RegistrySetup` needs of the addon component. */
export interface RegistryAddonPart extends pulumi.Resource {
  /** `<node host>:32000`. */
  readonly endpoint: pulumi.Output<string>;
}

/** The addon component's constructor. */
export type RegistryAddonConstructor = new (
  name: string,
  args: RegistryAddonPartArgs,
  opts?: pulumi.ComponentResourceOptions,
) => RegistryAddonPart;

/** Arguments of `SideLoad` (the shape its component takes). */
export interface SideLoadPartArgs {
  /** Every node that gets the images. */
  nodes: ClusterNode[];
  /** The tarballs, in import order. */
  images: SideLoadArgs[];
  /** Names the nodes' state, as the node components' `owner`. */
  owner?: string;
}

/** What `RegistrySetup` needs of the side-load component. */
export interface SideLoadPart extends pulumi.Resource {
  /** The image references each node imported, by node name. */
  readonly imported: pulumi.Output<Record<string, string[]>>;
}

/** The side-load component's constructor. */
export type SideLoadConstructor = new (
  name: string,
  args: SideLoadPartArgs,
  opts?: pulumi.ComponentResourceOptions,
) => SideLoadPart;

/** The components `RegistrySetup` wires but does not define. */
export interface ClusterParts {
  readonly registryAddon?: RegistryAddonConstructor;
  readonly sideLoad?: SideLoadConstructor;
}

/**
 * Register the addon: `${name}-registry-addon`, a child of `parent`, after `after` (the nodes' configuration). Its endpoint must be the one the nodes were
 * pointed at when the declaration was merged (`expected`, known at construction): otherwise nodes would trust an
 * address nobody serves, so a mismatch fails the update.
 */
export function wireRegistryAddon(
  parent: pulumi.Resource,
  name: string,
  make: RegistryAddonConstructor,
  args: RegistryAddonPartArgs,
  expected: string,
  after?: pulumi.Resource,
): { part: RegistryAddonPart; endpoint: pulumi.Output<string> } {
  // Child names must never change once released: a new name is a new resource (the addon disabled, then enabled).
  // The addon's Pod pulls its image through the nodes' registry configuration: configure the nodes first.
  const part = new make(`${name}-registry-addon`, args, { parent, ...(after ? { dependsOn: [after] } : {}) });
  const endpoint = part.endpoint.apply((e) => {
    const wrong = addonEndpointMismatch(expected, e);
    if (wrong) throw new pulumi.ResourceError(wrong, parent);
    return e;
  });
  return { part, endpoint };
}

/** The message when the addon reports another endpoint than the one the nodes trust; undefined when it is the same. */
export function addonEndpointMismatch(expected: string, reported: string): string | undefined {
  if (reported === expected) return undefined;
  return `registryAddon: the addon reports the endpoint ${JSON.stringify(reported)}, but the nodes were pointed at ${JSON.stringify(expected)}`;
}

/** Register the side-loads: `${name}-side-load`, a child of `parent`, for every node. */
export function wireSideLoads(
  parent: pulumi.Resource,
  name: string,
  make: SideLoadConstructor,
  args: SideLoadPartArgs,
): SideLoadPart {
  // Child names must never change once released: a new name is a new resource (imports run again).
  return new make(`${name}-side-load`, args, { parent });
}
