/**
 * STAND-IN components for the two parts RegistrySetup wires but another helper builds (the MicroK8s registry addon
 * and side-loading): they take exactly the documented argument shapes (components/resources/clusterParts.ts),
 * record what they were given, and answer with the documented outputs. They do nothing else; they exist so the
 * wiring can be tested before the real components are merged.
 */
import * as pulumi from "@pulumi/pulumi";
import type {
  ClusterParts,
  RegistryAddonPartArgs,
  SideLoadPartArgs,
} from "../../components/resources/clusterParts";

/** What each stand-in was constructed with, by resource name. */
export const received = {
  addons: new Map<string, { args: RegistryAddonPartArgs; opts?: pulumi.ComponentResourceOptions }>(),
  sideLoads: new Map<string, { args: SideLoadPartArgs; opts?: pulumi.ComponentResourceOptions }>(),
};

/** Stand-in of `MicroK8sRegistryAddon`: `endpoint` is `<node host>:32000`. */
export class StandInRegistryAddon extends pulumi.ComponentResource {
  public readonly endpoint: pulumi.Output<string>;
  constructor(name: string, args: RegistryAddonPartArgs, opts?: pulumi.ComponentResourceOptions) {
    super("test:standin:MicroK8sRegistryAddon", name, {}, opts);
    received.addons.set(name, { args, ...(opts ? { opts } : {}) });
    const host = (args.node.connection as { host: string }).host;
    this.endpoint = pulumi.output(`${host}:32000`);
    this.registerOutputs({ endpoint: this.endpoint });
  }
}

/** Stand-in of `SideLoad`: `imported` lists each image path for each node. */
export class StandInSideLoad extends pulumi.ComponentResource {
  public readonly imported: pulumi.Output<Record<string, string[]>>;
  constructor(name: string, args: SideLoadPartArgs, opts?: pulumi.ComponentResourceOptions) {
    super("test:standin:SideLoad", name, {}, opts);
    received.sideLoads.set(name, { args, ...(opts ? { opts } : {}) });
    this.imported = pulumi.output(
      Object.fromEntries(args.nodes.map((n) => [n.name, args.images.map((i) => `stand-in:${i.path}`)])),
    );
    this.registerOutputs({ imported: this.imported });
  }
}

/** Both stand-ins, as RegistrySetup takes its parts. */
export const STAND_IN_PARTS: ClusterParts = {
  registryAddon: StandInRegistryAddon,
  sideLoad: StandInSideLoad,
};
