/**
 * Reading the Kubernetes objects a component declared out of the mock recorder's registrations: the object as the
 * provider would receive it (secrets unwrapped), for the OpenAPI schema check and for assertions.
 */
import { isWireSecret, Registration, unwrap } from "./pulumiMocks";

/** A wire value with every secret envelope removed, at any depth. */
export function deepUnwrap(value: unknown): unknown {
  if (isWireSecret(value)) return deepUnwrap(unwrap(value));
  if (Array.isArray(value)) return value.map(deepUnwrap);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deepUnwrap(v)]));
  }
  return value;
}

/** Whether a registration is a `@pulumi/kubernetes` resource. */
export const isKube = (r: Registration) => r.custom && r.type.startsWith("kubernetes:");

/** The Kubernetes object a registration declares (apiVersion and kind are set by the SDK's resource class). */
export function objectOf(r: Registration): Record<string, unknown> {
  return deepUnwrap(r.inputs) as Record<string, unknown>;
}
