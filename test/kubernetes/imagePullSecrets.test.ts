import {
  addedAnnotationKey,
  applyImagePullSecrets,
  imagePullSecretsJsonPatch,
  LocalObjectReference,
  planServiceAccountApply,
  planServiceAccountRemove,
  restoreImagePullSecrets,
  ServiceAccountState,
} from "../../components/kubernetes/imagePullSecrets";
import { ServiceAccountMode } from "../../components/model/cluster";

const OURS = "registry-credentials";
const refs = (...names: (string | undefined)[]): LocalObjectReference[] =>
  names.map((name) => (name === undefined ? {} : { name }));
const sa = (...names: (string | undefined)[]): ServiceAccountState => ({ imagePullSecrets: refs(...names) });

/**
 * name, the ServiceAccount before us (undefined = it does not exist), our Secret names, what others do to the
 * list while we are there, and the expected lists: after apply, and after restore.
 */
type Row = [
  string,
  ServiceAccountState | undefined,
  string[],
  (list: LocalObjectReference[]) => LocalObjectReference[],
  LocalObjectReference[] | undefined,
  LocalObjectReference[] | undefined,
];
const untouched = (l: LocalObjectReference[]) => l;

const PATCH_ROWS: Row[] = [
  ["empty list", sa(), [OURS], untouched, refs(OURS), refs()],
  ["no imagePullSecrets field", {}, [OURS], untouched, refs(OURS), refs()],
  ["others' entries", sa("a", "b"), [OURS], untouched, refs("a", "b", OURS), refs("a", "b")],
  [
    "ours already there (others put it): kept, not ours to remove",
    sa("a", OURS),
    [OURS],
    untouched,
    refs("a", OURS),
    refs("a", OURS),
  ],
  [
    "duplicates of others' entries are kept as they are",
    sa("a", "a", "b"),
    [OURS],
    untouched,
    refs("a", "a", "b", OURS),
    refs("a", "a", "b"),
  ],
  [
    "our names given twice: appended once",
    sa("a"),
    [OURS, "second", OURS],
    untouched,
    refs("a", OURS, "second"),
    refs("a"),
  ],
  [
    "an entry without a name is kept",
    sa(undefined, "a"),
    [OURS],
    untouched,
    refs(undefined, "a", OURS),
    refs(undefined, "a"),
  ],
  [
    "others add an entry after us: kept on removal",
    sa("a"),
    [OURS],
    (l) => [...l, { name: "late" }],
    refs("a", OURS),
    refs("a", "late"),
  ],
  [
    "others remove one of theirs after us: stays removed",
    sa("a", "b"),
    [OURS],
    (l) => l.filter((e) => e.name !== "a"),
    refs("a", "b", OURS),
    refs("b"),
  ],
  [
    "others add our Secret's name again after us: theirs stays",
    sa("a"),
    [OURS],
    (l) => [...l, { name: OURS }],
    refs("a", OURS),
    refs("a", OURS),
  ],
  [
    "others remove our entry: nothing left to remove",
    sa("a"),
    [OURS],
    (l) => l.filter((e) => e.name !== OURS),
    refs("a", OURS),
    refs("a"),
  ],
  ["the ServiceAccount is missing: nothing to write", undefined, [OURS], untouched, undefined, undefined],
];

describe("imagePullSecrets algebra, patch mode", () => {
  test.each(PATCH_ROWS)("%s", (_name, before, ours, others, applied, restored) => {
    const a = applyImagePullSecrets(before, ours, ServiceAccountMode.Patch);
    expect(a.list).toEqual(applied);
    expect(a.missing).toBe(before === undefined);
    expect(a.changed).toBe(
      applied !== undefined && applied.length !== (before?.imagePullSecrets ?? []).length,
    );
    // The list at removal time: what we wrote, then whatever others did meanwhile.
    const now = before === undefined ? undefined : { imagePullSecrets: others(a.list ?? []) };
    const r = restoreImagePullSecrets(now, a.added, ServiceAccountMode.Patch);
    expect(r.list).toEqual(restored);
    expect(r.missing).toBe(before === undefined);
  });

  test("apply then restore with nobody else gives back exactly the previous list, entry for entry", () => {
    for (const [, before, ours, others] of PATCH_ROWS) {
      if (before === undefined || others !== untouched) continue;
      const a = applyImagePullSecrets(before, ours, ServiceAccountMode.Patch);
      const r = restoreImagePullSecrets({ imagePullSecrets: a.list }, a.added, ServiceAccountMode.Patch);
      expect(r.list).toEqual(before.imagePullSecrets ?? []);
    }
  });

  test("applying twice changes nothing the second time", () => {
    const first = applyImagePullSecrets(sa("a"), [OURS], ServiceAccountMode.Patch);
    const second = applyImagePullSecrets({ imagePullSecrets: first.list }, [OURS], ServiceAccountMode.Patch);
    expect(second).toEqual({ missing: false, list: refs("a", OURS), changed: false, added: [] });
  });

  test("the ServiceAccount disappears before removal: nothing to give back", () => {
    const a = applyImagePullSecrets(sa("a"), [OURS], ServiceAccountMode.Patch);
    expect(restoreImagePullSecrets(undefined, a.added, ServiceAccountMode.Patch)).toEqual({
      missing: true,
      changed: false,
    });
  });

  test("the inputs are never modified", () => {
    const before = sa("a");
    const frozen = JSON.stringify(before);
    const a = applyImagePullSecrets(before, [OURS], ServiceAccountMode.Patch);
    restoreImagePullSecrets(before, a.added, ServiceAccountMode.Patch);
    expect(JSON.stringify(before)).toBe(frozen);
  });
});

describe("imagePullSecrets algebra, secretsOnly mode: nothing is ever written", () => {
  test.each(PATCH_ROWS)("%s", (_name, before, ours, others) => {
    const a = applyImagePullSecrets(before, ours, ServiceAccountMode.SecretsOnly);
    expect(a).toEqual({
      missing: before === undefined,
      changed: false,
      added: [],
      ...(before === undefined ? {} : { list: refs(...(before.imagePullSecrets ?? []).map((e) => e.name)) }),
    });
    const now = before === undefined ? undefined : { imagePullSecrets: others(a.list ?? []) };
    const r = restoreImagePullSecrets(now, ["anything"], ServiceAccountMode.SecretsOnly);
    expect(r.changed).toBe(false);
    expect(r.list).toEqual(now?.imagePullSecrets);
  });
});

describe("imagePullSecretsJsonPatch", () => {
  test("tests the list it read, then replaces it", () => {
    expect(imagePullSecretsJsonPatch(sa("a"), refs("a", OURS), "42")).toEqual([
      { op: "test", path: "/metadata/resourceVersion", value: "42" },
      { op: "test", path: "/imagePullSecrets", value: [{ name: "a" }] },
      { op: "replace", path: "/imagePullSecrets", value: [{ name: "a" }, { name: OURS }] },
    ]);
  });

  test("adds the field when it was absent", () => {
    expect(imagePullSecretsJsonPatch({}, refs(OURS))).toEqual([
      { op: "add", path: "/imagePullSecrets", value: [{ name: OURS }] },
    ]);
  });
});

describe("planServiceAccountApply / planServiceAccountRemove: the list and the record of what we added", () => {
  const KEY = addedAnnotationKey("registries");
  const obj = (list: (string | undefined)[] | undefined, annotations?: Record<string, string>) => ({
    metadata: { resourceVersion: "7", ...(annotations ? { annotations } : {}) },
    ...(list === undefined ? {} : { imagePullSecrets: refs(...list) }),
  });

  test.each(PATCH_ROWS.filter((r) => r[1] !== undefined))(
    "%s",
    (_name, before, ours, others, applied, restored) => {
      const a = planServiceAccountApply(
        obj(before!.imagePullSecrets?.map((e) => e.name)),
        ours,
        "registries",
      );
      expect(a.list).toEqual(applied);
      // What the object looks like after the patch, then after others' changes.
      const written = {
        metadata: {
          resourceVersion: "8",
          annotations: a.recorded.length ? { [KEY]: JSON.stringify(a.recorded) } : {},
        },
        imagePullSecrets: others(a.list),
      };
      const r = planServiceAccountRemove(written, "registries");
      expect(r.list).toEqual(restored);
      expect(r.recorded).toEqual([]);
    },
  );

  test("no annotations yet: the whole map is added, with the resourceVersion test first", () => {
    expect(planServiceAccountApply(obj(undefined), [OURS], "registries").ops).toEqual([
      { op: "test", path: "/metadata/resourceVersion", value: "7" },
      { op: "add", path: "/imagePullSecrets", value: [{ name: OURS }] },
      { op: "add", path: "/metadata/annotations", value: { [KEY]: `["${OURS}"]` } },
    ]);
  });

  test("removal takes out the entry and the annotation, keeping other annotations", () => {
    const sa = obj(["a", OURS], { [KEY]: `["${OURS}"]`, keep: "me" });
    expect(planServiceAccountRemove(sa, "registries")).toEqual({
      ops: [
        { op: "test", path: "/metadata/resourceVersion", value: "7" },
        { op: "test", path: "/imagePullSecrets", value: [{ name: "a" }, { name: OURS }] },
        { op: "replace", path: "/imagePullSecrets", value: [{ name: "a" }] },
        { op: "remove", path: "/metadata/annotations/pull-secrets.registry-setup.io~1registries" },
      ],
      list: refs("a"),
      recorded: [],
      changed: true,
    });
  });

  test("nothing recorded and nothing to add: no patch at all", () => {
    expect(planServiceAccountApply(obj([OURS]), [OURS], "registries")).toMatchObject({
      ops: [],
      changed: false,
    });
    expect(planServiceAccountRemove(obj([OURS]), "registries")).toMatchObject({ ops: [], changed: false });
  });

  test("ours removed by someone else: apply puts it back and keeps the record", () => {
    const sa = obj(["a"], { [KEY]: `["${OURS}"]` });
    const a = planServiceAccountApply(sa, [OURS], "registries");
    expect(a.list).toEqual(refs("a", OURS));
    expect(a.recorded).toEqual([OURS]);
    // The record is unchanged, so only the list is written.
    expect(a.ops.map((o) => o.op)).toEqual(["test", "test", "replace"]);
  });

  test("a renamed Secret: the old name we added goes, the new one comes, in one patch", () => {
    const sa = obj(["a", "old"], { [KEY]: '["old"]' });
    const a = planServiceAccountApply(sa, ["new"], "registries");
    expect(a.list).toEqual(refs("a", "new"));
    expect(a.recorded).toEqual(["new"]);
  });

  test("another owner's record is neither read nor written", () => {
    const other = addedAnnotationKey("other");
    const sa = obj(["x", OURS], { [other]: '["x"]', [KEY]: `["${OURS}"]` });
    const r = planServiceAccountRemove(sa, "registries");
    expect(r.list).toEqual(refs("x"));
    expect(JSON.stringify(r.ops)).not.toContain("other");
  });

  test("an annotation that is not a list of names is refused", () => {
    expect(() => planServiceAccountRemove(obj([OURS], { [KEY]: "{}" }), "registries")).toThrow(
      `annotation ${KEY} must be a JSON list of Secret names (it records what this owner added), got "{}": restore it or remove it by hand`,
    );
  });
});
