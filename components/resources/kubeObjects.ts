/**
 * Declares the plain Kubernetes objects of `clusterManifests` as `@pulumi/kubernetes` resources: one resource per
 * object, named after the object's stable key (never a list position), the kind's own resource class (so the
 * provider's await logic and its secret handling of Secrets apply).
 *
 * How many resources exist and what they are called comes from the declaration as known at construction; what
 * each one holds comes from the declaration once every Output is known (a password may still be unknown at
 * construction: the pull Secrets' data depend on it).
 *
 * @module
 * @internal
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { KubeObject, Manifest } from "../kubernetes/objects";
import { withDependencies } from "./node";

/** The kinds the builders make, by `apiVersion/kind`. */
const KINDS = {
  "v1/Namespace": (name: string, o: pulumi.Output<KubeObject>, opts: pulumi.CustomResourceOptions) =>
    new k8s.core.v1.Namespace(name, { metadata: field(o, "metadata") }, opts),
  "v1/ConfigMap": (name: string, o: pulumi.Output<KubeObject>, opts: pulumi.CustomResourceOptions) =>
    new k8s.core.v1.ConfigMap(name, { metadata: field(o, "metadata"), data: field(o, "data") }, opts),
  "v1/Secret": (name: string, o: pulumi.Output<KubeObject>, opts: pulumi.CustomResourceOptions) =>
    new k8s.core.v1.Secret(
      name,
      // The data is a credential whoever passed it: secret in the inputs, the state and every diff.
      { metadata: field(o, "metadata"), type: field(o, "type"), data: pulumi.secret(field(o, "data")) },
      opts,
    ),
  "v1/PersistentVolumeClaim": (
    name: string,
    o: pulumi.Output<KubeObject>,
    opts: pulumi.CustomResourceOptions,
  ) =>
    new k8s.core.v1.PersistentVolumeClaim(
      name,
      { metadata: field(o, "metadata"), spec: field(o, "spec") },
      opts,
    ),
  "v1/Service": (name: string, o: pulumi.Output<KubeObject>, opts: pulumi.CustomResourceOptions) =>
    new k8s.core.v1.Service(name, { metadata: field(o, "metadata"), spec: field(o, "spec") }, opts),
  "apps/v1/Deployment": (name: string, o: pulumi.Output<KubeObject>, opts: pulumi.CustomResourceOptions) =>
    new k8s.apps.v1.Deployment(name, { metadata: field(o, "metadata"), spec: field(o, "spec") }, opts),
} as const;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function field(o: pulumi.Output<KubeObject>, key: string): pulumi.Output<any> {
  return o.apply((x) => x[key]);
}

/**
 * Declare one resource per manifest.
 *
 * @param parent the component that owns them.
 * @param prefix the component's name: each child is `${prefix}-${manifest.key}`.
 * @param structure the manifests as known at construction (their keys, kinds and names decide the resources).
 * @param content the same manifests once every value is known; each resource takes its object by key.
 * @param existing resources declared elsewhere that objects may depend on, by manifest key (`namespace/<ns>`).
 * @param dependsOn what every object waits for: the component's own `dependsOn` (children do not inherit it).
 * @returns every declared resource by key.
 */
export function declareManifests(
  parent: pulumi.Resource,
  prefix: string,
  structure: readonly Manifest[],
  content: pulumi.Output<readonly Manifest[]>,
  existing: ReadonlyMap<string, pulumi.Resource> = new Map(),
  dependsOn?: pulumi.ResourceOptions["dependsOn"],
): Map<string, pulumi.CustomResource> {
  const declared = new Map<string, pulumi.CustomResource>();
  const known = (key: string) => declared.get(key) ?? existing.get(key);
  for (const m of structure) {
    const kind = `${m.object.apiVersion}/${m.object.kind}` as keyof typeof KINDS;
    const make = KINDS[kind];
    if (!make) throw new Error(`internal: no resource class for ${kind}`);
    const object = content.apply((list) => {
      const found = list.find((x) => x.key === m.key);
      if (
        !found ||
        found.object.kind !== m.object.kind ||
        found.object.metadata.name !== m.object.metadata.name
      ) {
        throw new pulumi.ResourceError(
          `${m.key}: the declaration, once known, no longer has this object; pass the cluster declaration as plain values`,
          parent,
        );
      }
      return found.object;
    });
    // Only a pull Secret holds a credential, in its data (which the Secret class marks secret): everything else,
    // its name and type included, is shown in clear even when the registry declaration (and so the whole content)
    // is secret. A secret object of another kind would stay secret as a whole.
    const value = m.secret && m.object.kind !== "Secret" ? object : pulumi.unsecret(object);
    const deps: pulumi.Resource[] = [];
    const ns = m.object.metadata.namespace;
    const nsResource = ns === undefined ? undefined : known(`namespace/${ns}`);
    if (nsResource) deps.push(nsResource);
    // A Deployment's Pod mounts its config: create the ConfigMap first so the first Pod starts with it.
    if (m.object.kind === "Deployment") {
      const config = known(m.key.replace(/deployment$/, "config"));
      if (config) deps.push(config);
    }
    // Child names must never change once released: a new name is a new resource (deleted and created again).
    declared.set(
      m.key,
      make(`${prefix}-${m.key}`, value, { parent, dependsOn: withDependencies(dependsOn, deps) }),
    );
  }
  return declared;
}
