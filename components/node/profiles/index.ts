/**
 * The runtime profile table: one entry per {@link ProfileKind}. The type `{ [K in ProfileKind]: … }` makes a kind
 * without an entry a compile error, and every option's default lives in its entry, where the planner reads it.
 *
 * @module
 */
import { Problems, show } from "../../model/errors";
import { containerd } from "./containerd";
import { crio } from "./crio";
import { docker } from "./docker";
import { kubelet } from "./kubelet";
import { microk8s } from "./microk8s";
import { k3s, rke2 } from "./rancher";
import { checkOption, ProfileDefinition, ProfileKind, RuntimeProfile } from "./types";

export * from "./types";
export { containerdMajor } from "./containerd";

/** Every runtime kind's definition. A new {@link ProfileKind} does not compile until it has an entry here. */
export const PROFILES: { readonly [K in ProfileKind]: ProfileDefinition<K> } = {
  microk8s,
  containerd,
  k3s,
  rke2,
  crio,
  docker,
  kubelet,
};

/** Every profile kind, in table order. */
export const PROFILE_KINDS = Object.keys(PROFILES) as ProfileKind[];

/**
 * Check one profile's settings, recording every problem under `path`: the kind, settings that do not belong to
 * it, and each setting's value by its type (a string where a boolean belongs is an error).
 */
export function checkProfile(problems: Problems, path: string, profile: unknown): profile is RuntimeProfile {
  if (typeof profile !== "object" || profile === null || Array.isArray(profile)) {
    problems.add(path, `must be an object with a kind (${PROFILE_KINDS.join(", ")}), got ${show(profile)}`);
    return false;
  }
  const p = profile as Record<string, unknown>;
  const def = PROFILES[p.kind as ProfileKind] as ProfileDefinition | undefined;
  if (typeof p.kind !== "string" || !def || !Object.prototype.hasOwnProperty.call(PROFILES, p.kind)) {
    problems.add(
      `${path}.kind`,
      `${show(p.kind)} is not a profile kind: use one of ${PROFILE_KINDS.join(", ")}`,
    );
    return false;
  }
  const before = problems.count;
  const known = Object.keys(def.options);
  for (const [key, value] of Object.entries(p)) {
    if (key === "kind" || value === undefined) continue;
    const spec = def.options[key as keyof RuntimeProfile];
    if (!spec) {
      problems.add(
        `${path}.${key}`,
        known.length
          ? `is not a setting of the ${def.kind} profile (known: ${known.join(", ")})`
          : `is not a setting of the ${def.kind} profile (it has none)`,
      );
      continue;
    }
    const err = checkOption(spec, value);
    if (err) problems.add(`${path}.${key}`, err);
  }
  if (problems.count === before) def.check?.(problems, path, p as unknown as RuntimeProfile);
  return problems.count === before;
}
