/**
 * The algebra of a ServiceAccount's `imagePullSecrets` when several owners share it: what to write when our
 * pull Secret is added, and what to write when our part is removed, so that others' entries survive both.
 *
 * Why it is needed: `imagePullSecrets` is an atomic list (no merge key). A strategic-merge or server-side-apply
 * patch replaces it whole; a forced server-side apply takes ownership of every entry, and deleting that patch
 * resets the list. aws-cdk's `KubernetesPatch` (aws-eks `k8s-patch.ts`) carries an apply patch and a restore
 * patch fixed at declaration time, which would erase entries added after it. Here the restore list is computed
 * from the list as it is at removal time, and only what we added is taken out.
 *
 * Pure: the Pulumi layer reads the ServiceAccount, calls these, and writes the result (for example with
 * {@link imagePullSecretsJsonPatch}, whose `test` operations make the write fail instead of losing a concurrent
 * change).
 *
 * @module
 */
import { ServiceAccountMode } from "../model/cluster";

/** An entry of `imagePullSecrets` (Kubernetes `LocalObjectReference`). */
export interface LocalObjectReference {
  /** The Secret's name. Entries without one are kept as they are and never matched. */
  readonly name?: string;
}

/** The part of a ServiceAccount that matters here. */
export interface ServiceAccountState {
  /** The list as read from the API server; absent and `[]` mean the same. */
  readonly imagePullSecrets?: readonly LocalObjectReference[];
}

/** The outcome of {@link applyImagePullSecrets}. */
export interface ImagePullSecretsApply {
  /** The ServiceAccount does not exist: nothing can be written (the component must wait for it or fail). */
  readonly missing: boolean;
  /** The list to write; equal to the current one when nothing changes. Undefined when `missing`. */
  readonly list?: LocalObjectReference[];
  /** Whether `list` differs from the current list. */
  readonly changed: boolean;
  /**
   * Our Secret names this apply appended (absent before). Keep it: {@link restoreImagePullSecrets} takes out
   * exactly these, so a name that was there before us stays after us.
   */
  readonly added: string[];
}

/** The outcome of {@link restoreImagePullSecrets}. */
export interface ImagePullSecretsRestore {
  /** The ServiceAccount no longer exists: nothing to give back. */
  readonly missing: boolean;
  /** The list to write. Undefined when `missing`. */
  readonly list?: LocalObjectReference[];
  /** Whether `list` differs from the current list. */
  readonly changed: boolean;
}

/**
 * The list to write when our Secrets join a ServiceAccount: every current entry kept, in order (others'
 * entries, duplicates and nameless ones included), then each of `ours` that is not there yet, once, in the
 * given order.
 *
 * - `patch` mode: as above. A missing ServiceAccount gives `missing: true` (the `default` ServiceAccount of a
 *   new namespace appears a moment after the namespace, created by the controller manager).
 * - `secretsOnly` mode: nothing is ever written (`changed: false`, `added: []`).
 */
export function applyImagePullSecrets(
  sa: ServiceAccountState | undefined,
  ours: readonly string[],
  mode: ServiceAccountMode,
): ImagePullSecretsApply {
  if (sa === undefined) return { missing: true, changed: false, added: [] };
  const current = copy(sa.imagePullSecrets);
  if (mode === ServiceAccountMode.SecretsOnly)
    return { missing: false, list: current, changed: false, added: [] };
  const present = new Set(current.map((e) => e.name).filter((n): n is string => n !== undefined));
  const added: string[] = [];
  for (const name of ours) {
    if (present.has(name)) continue;
    present.add(name);
    added.push(name);
  }
  return {
    missing: false,
    list: [...current, ...added.map((name) => ({ name }))],
    changed: added.length > 0,
    added,
  };
}

/**
 * The list to write when our part is removed: the current list with the first entry of each name in `added`
 * taken out, everything else kept in order, including entries others added after us (even one with our
 * Secret's name: ours was appended when the name was absent, so the first one is ours).
 *
 * With `added` as returned by {@link applyImagePullSecrets}, this gives back exactly the list the
 * ServiceAccount had before, plus whatever others changed since. In `secretsOnly` mode nothing is written.
 */
export function restoreImagePullSecrets(
  sa: ServiceAccountState | undefined,
  added: readonly string[],
  mode: ServiceAccountMode,
): ImagePullSecretsRestore {
  if (sa === undefined) return { missing: true, changed: false };
  const current = copy(sa.imagePullSecrets);
  if (mode === ServiceAccountMode.SecretsOnly) return { missing: false, list: current, changed: false };
  const remove = new Set(added);
  const list = current.filter((e) => {
    if (e.name === undefined || !remove.has(e.name)) return true;
    remove.delete(e.name);
    return false;
  });
  return { missing: false, list, changed: list.length !== current.length };
}

/** One RFC 6902 JSON Patch operation. */
export interface JsonPatchOperation {
  readonly op: "test" | "add" | "replace" | "remove";
  readonly path: string;
  /** The value (absent for `remove`). */
  readonly value?: unknown;
}

/**
 * A JSON Patch (RFC 6902, `kubectl patch --type json`) that writes `after` only if the ServiceAccount still
 * has `before` (and, when given, the same `resourceVersion`): a concurrent change makes the patch fail (the
 * API server answers 422 for a failed `test`) instead of being overwritten. When the field is absent the
 * patch adds it; the optional `resourceVersion` test then guards against a concurrent writer.
 */
export function imagePullSecretsJsonPatch(
  before: ServiceAccountState,
  after: readonly LocalObjectReference[],
  resourceVersion?: string,
): JsonPatchOperation[] {
  const ops: JsonPatchOperation[] = [];
  if (resourceVersion !== undefined)
    ops.push({ op: "test", path: "/metadata/resourceVersion", value: resourceVersion });
  if (before.imagePullSecrets === undefined) {
    ops.push({ op: "add", path: "/imagePullSecrets", value: copy(after) });
  } else {
    ops.push({ op: "test", path: "/imagePullSecrets", value: copy(before.imagePullSecrets) });
    ops.push({ op: "replace", path: "/imagePullSecrets", value: copy(after) });
  }
  return ops;
}

function copy(list: readonly LocalObjectReference[] | undefined): LocalObjectReference[] {
  return (list ?? []).map((e) => ({ ...e }));
}

/**
 * Prefix of the annotation in which one owner records the Secret names it appended to a ServiceAccount's
 * `imagePullSecrets`: `pull-secrets.registry-setup.io/<owner>`, value a JSON list of names (e.g.
 * `["registry-credentials"]`). Kept on the ServiceAccount itself, written in the same atomic patch as the list,
 * so that removal knows what is ours from any machine and after a lost state; one key per owner, so two stacks
 * that share a ServiceAccount never take each other's entries out.
 */
export const ADDED_ANNOTATION_PREFIX = "pull-secrets.registry-setup.io/";

/** The annotation key of `owner` (see {@link ADDED_ANNOTATION_PREFIX}). */
export function addedAnnotationKey(owner: string): string {
  return `${ADDED_ANNOTATION_PREFIX}${owner}`;
}

/** A ServiceAccount as `kubectl get serviceaccount -o json` prints it (the fields that matter here). */
export interface ServiceAccountObject extends ServiceAccountState {
  readonly metadata?: {
    readonly resourceVersion?: string;
    readonly annotations?: Readonly<Record<string, string>>;
  };
}

/** What to write to a ServiceAccount, from {@link planServiceAccountApply} or {@link planServiceAccountRemove}. */
export interface ServiceAccountPlan {
  /**
   * The JSON Patch to send (`kubectl patch --type json`): a `test` of the `resourceVersion` read (so a
   * concurrent writer makes it fail instead of being overwritten), the list, and our annotation. Empty when
   * nothing changes.
   */
  readonly ops: JsonPatchOperation[];
  /** `imagePullSecrets` after the patch. */
  readonly list: LocalObjectReference[];
  /** What the annotation records after the patch: the names this owner appended and still owns. */
  readonly recorded: string[];
  /** Whether anything changes (`ops` is not empty). */
  readonly changed: boolean;
}

/**
 * What to write so that `ours` are in the ServiceAccount's `imagePullSecrets`, keeping every other entry: the
 * names this owner recorded earlier but no longer wants (a renamed Secret) are taken out first (as
 * {@link restoreImagePullSecrets} does), then each of `ours` that is absent is appended (as
 * {@link applyImagePullSecrets} does) and recorded. A name that was there before us is neither recorded nor
 * ever removed by us.
 *
 * @throws {Error} when the annotation holds something other than a JSON list of names (someone edited it: we
 *   would not know what is ours).
 */
export function planServiceAccountApply(
  sa: ServiceAccountObject,
  ours: readonly string[],
  owner: string,
): ServiceAccountPlan {
  const key = addedAnnotationKey(owner);
  const before = recordOf(sa, key);
  const stale = before.filter((n) => !ours.includes(n));
  const restored = restoreImagePullSecrets(sa, stale, ServiceAccountMode.Patch).list ?? [];
  const applied = applyImagePullSecrets({ imagePullSecrets: restored }, ours, ServiceAccountMode.Patch);
  const list = applied.list ?? [];
  const still = new Set(restored.map((e) => e.name));
  const recorded = unique([...before.filter((n) => ours.includes(n) && still.has(n)), ...applied.added]);
  return plan(sa, key, before, list, recorded);
}

/**
 * What to write when this owner's part is removed: the names its annotation records are taken out (the first
 * entry of each, as {@link restoreImagePullSecrets} does), every other entry stays, including those others
 * added after us, and the annotation goes. Nothing is written when the annotation records nothing.
 *
 * @throws {Error} when the annotation holds something other than a JSON list of names.
 */
export function planServiceAccountRemove(sa: ServiceAccountObject, owner: string): ServiceAccountPlan {
  const key = addedAnnotationKey(owner);
  const before = recordOf(sa, key);
  const list = restoreImagePullSecrets(sa, before, ServiceAccountMode.Patch).list ?? [];
  return plan(sa, key, before, list, []);
}

function plan(
  sa: ServiceAccountObject,
  key: string,
  before: string[],
  list: LocalObjectReference[],
  recorded: string[],
): ServiceAccountPlan {
  const current = copy(sa.imagePullSecrets);
  const listChanged = JSON.stringify(list) !== JSON.stringify(current);
  const annotations = sa.metadata?.annotations;
  const had = annotations !== undefined && Object.prototype.hasOwnProperty.call(annotations, key);
  const recordChanged = had
    ? JSON.stringify(before) !== JSON.stringify(recorded) || recorded.length === 0
    : recorded.length > 0;
  if (!listChanged && !recordChanged) return { ops: [], list: current, recorded, changed: false };

  const rv = sa.metadata?.resourceVersion;
  const ops: JsonPatchOperation[] = [];
  if (listChanged) ops.push(...imagePullSecretsJsonPatch(sa, list, rv));
  else if (rv !== undefined) ops.push({ op: "test", path: "/metadata/resourceVersion", value: rv });
  if (recordChanged) {
    const pointer = `/metadata/annotations/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`;
    if (recorded.length === 0) ops.push({ op: "remove", path: pointer });
    else if (annotations === undefined)
      ops.push({ op: "add", path: "/metadata/annotations", value: { [key]: JSON.stringify(recorded) } });
    else ops.push({ op: "add", path: pointer, value: JSON.stringify(recorded) });
  }
  return { ops, list, recorded, changed: true };
}

function recordOf(sa: ServiceAccountObject, key: string): string[] {
  const raw = sa.metadata?.annotations?.[key];
  if (raw === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || !parsed.every((n) => typeof n === "string")) {
    throw new Error(
      `annotation ${key} must be a JSON list of Secret names (it records what this owner added), got ${JSON.stringify(raw).slice(0, 120)}: restore it or remove it by hand`,
    );
  }
  return unique(parsed as string[]);
}

function unique(names: string[]): string[] {
  return [...new Set(names)];
}
