import {
  applyImagePullSecrets,
  imagePullSecretsJsonPatch,
  LocalObjectReference,
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
