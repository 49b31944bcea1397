/**
 * The plain shape of the Kubernetes objects the builders return, and the labels they share. No client library:
 * the Pulumi layer hands these objects to `@pulumi/kubernetes` resources, tests validate them against the
 * Kubernetes OpenAPI schema.
 *
 * @module
 */

/** `metadata` of an object (the fields the builders set). */
export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** A Kubernetes object as plain data: `apiVersion`, `kind`, `metadata` and the kind's own fields. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: ObjectMeta;
  readonly [field: string]: unknown;
}

/** One object to declare, with a stable key to name its resource after. */
export interface Manifest {
  /**
   * Stable and unique within one build, e.g. `registry/deployment` or `pull-secret/team-a`: the Pulumi layer
   * names child resources after it, so it never depends on list positions.
   */
  readonly key: string;
  readonly object: KubeObject;
  /** True when the object holds a credential (a pull Secret): the Pulumi layer marks it secret. */
  readonly secret: boolean;
}

/** The value of `app.kubernetes.io/part-of` on everything the library creates. */
export const PART_OF = "registry-setup";

/** The recommended labels of one app instance. */
export function appLabels(name: string, instance: string, component: string): Record<string, string> {
  return {
    "app.kubernetes.io/component": component,
    "app.kubernetes.io/instance": instance,
    "app.kubernetes.io/name": name,
    "app.kubernetes.io/part-of": PART_OF,
  };
}

/** A Namespace. */
export function namespaceObject(name: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name, labels: { "app.kubernetes.io/part-of": PART_OF } },
  };
}
