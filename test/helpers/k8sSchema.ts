/**
 * Validates plain Kubernetes objects against the Kubernetes OpenAPI schema, without an API server, with the
 * validators of the `kubernetes-models` package (generated from the Kubernetes OpenAPI spec, compiled with
 * ajv; @kubernetes-models/validate).
 *
 * The OpenAPI schema itself does not forbid unknown fields (the generated validators never look at a key they
 * do not know), while an API server with strict field validation (kubectl's default) refuses them. So the
 * helper also reports every field the validator never read: the object is wrapped in a Proxy that records
 * each property the validator reads; a field it never read is not in the schema. This catches typos such as
 * `readinesProbe` that the schema check alone lets through. (It would also flag the contents of free-form
 * fields, which the objects built here do not have.)
 */
import * as apps from "kubernetes-models/apps/v1";
import * as core from "kubernetes-models/v1";

type ModelClass = { apiVersion: string; kind: string; prototype: { validate(): void } };

const MODELS = new Map<string, ModelClass>();
for (const group of [core, apps] as Record<string, unknown>[]) {
  for (const value of Object.values(group)) {
    if (typeof value !== "function") continue;
    const m = value as unknown as Partial<ModelClass>;
    if (typeof m.apiVersion === "string" && typeof m.kind === "string") {
      MODELS.set(`${m.apiVersion}/${m.kind}`, m as ModelClass);
    }
  }
}

/** The `apiVersion/kind` pairs the helper knows. */
export function knownKinds(): string[] {
  return [...MODELS.keys()].sort();
}

/**
 * Every schema problem of `obj`, as `"<path> <message>"` lines (path in JSON-pointer form, `""` for the
 * root), plus `"<path> is not a field of <apiVersion> <kind>"` for every unknown field. Empty when valid.
 */
export function k8sSchemaErrors(obj: unknown): string[] {
  if (typeof obj !== "object" || obj === null || Array.isArray(obj))
    return ["the object must be a JSON object"];
  const o = obj as { apiVersion?: unknown; kind?: unknown };
  const model = MODELS.get(`${String(o.apiVersion)}/${String(o.kind)}`);
  if (!model)
    return [`no schema for apiVersion ${JSON.stringify(o.apiVersion)} kind ${JSON.stringify(o.kind)}`];

  const read = new Set<string>();
  const errors: string[] = [];
  try {
    model.prototype.validate.call(tracked(obj, "", read));
  } catch (e) {
    const list = (e as { errors?: { instancePath: string; message?: string }[] }).errors;
    if (!Array.isArray(list)) throw e;
    for (const err of list) errors.push(`${err.instancePath} ${err.message ?? "is invalid"}`);
  }
  unread(obj, "", read, errors, `${String(o.apiVersion)} ${String(o.kind)}`);
  return errors;
}

/** Jest assertion: `obj` is a valid object of its kind (the errors are shown when it is not). */
export function expectValidK8s(obj: unknown): void {
  expect({ object: describe(obj), errors: k8sSchemaErrors(obj) }).toEqual({
    object: describe(obj),
    errors: [],
  });
}

function describe(obj: unknown): string {
  const o = obj as { kind?: unknown; metadata?: { namespace?: unknown; name?: unknown } };
  return `${String(o?.kind)} ${String(o?.metadata?.namespace ?? "")}/${String(o?.metadata?.name)}`;
}

function pointer(base: string, key: string): string {
  return `${base}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`;
}

/** A read-only view of `value` that records the JSON pointer of every own property read through it. */
function tracked(value: unknown, at: string, read: Set<string>): unknown {
  if (typeof value !== "object" || value === null) return value;
  return new Proxy(value as object, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver);
      if (typeof key !== "string" || !Object.prototype.hasOwnProperty.call(target, key)) return v;
      const p = pointer(at, key);
      read.add(p);
      return tracked(v, p, read);
    },
    set() {
      return false;
    },
  });
}

function unread(value: unknown, at: string, read: Set<string>, errors: string[], kind: string): void {
  if (typeof value !== "object" || value === null) return;
  for (const [key, v] of Object.entries(value)) {
    const p = pointer(at, key);
    if (!read.has(p)) errors.push(`${p} is not a field of ${kind}`);
    else unread(v, p, read, errors, kind);
  }
}
