/**
 * An Output-aware registry declaration, prepared once per component (a cluster normalises it once, not once per
 * node): checked at construction with everything known then, and resolved to the normalised model once every
 * Output is known, with problems about secret values reported without their values.
 *
 * @module
 */
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, Problem, withValuesHidden } from "../model/errors";
import { normalizeRegistries } from "../model/normalize";
import { RegistriesArgs, RegistryModel } from "../model/types";
import { isPending, KnownPart, knownPart } from "./known";
import { RegistriesInput } from "./types";

/** A declaration prepared for planning. */
export interface PreparedDeclaration {
  /**
   * The model as far as it is known at construction (unknown values replaced by placeholders), when it could be
   * normalised; `undefined` when the declaration as a whole is an Output.
   */
  readonly known?: RegistryModel;
  /** The real, validated model once every value is known (a `ConfigError` inside when it is invalid). */
  readonly model: pulumi.Output<RegistryModel>;
  /** Whether something unknown at construction may change which files a node gets (not only their content). */
  readonly partlyUnknown: boolean;
}

/**
 * Check a declaration with everything known now and prepare its model.
 *
 * @param registries the declaration (any leaf may be an Output).
 * @param parent the resource that problems found later are reported against.
 * @param path the root of property paths in messages, e.g. `registries`.
 * @param mapPath turns a property path of `registries` into the one the user wrote (a parent that added entries to
 *   the user's declaration reports problems where the user can find them). Defaults to none.
 * @returns the prepared declaration, or the problems found now (about known values only).
 */
export function prepareDeclaration(
  registries: RegistriesInput,
  parent: pulumi.Resource,
  path = "registries",
  mapPath: (path: string) => string = (p) => p,
): { prepared: PreparedDeclaration; problems: [] } | { prepared?: undefined; problems: Problem[] } {
  const known: KnownPart = pulumi.Output.isInstance(registries)
    ? { value: undefined, pending: [path], structural: true }
    : knownPart(registries, path);
  let model: RegistryModel | undefined;
  const problems: Problem[] = [];
  if (known.value !== undefined) {
    try {
      model = normalizeRegistries(known.value as RegistriesArgs, { path });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.push(
        ...e.problems.filter((p) => !isPending(known, p.path)).map((p) => ({ ...p, path: mapPath(p.path) })),
      );
    }
  }
  if (problems.length > 0) return { problems };
  const output = pulumi.output(registries as pulumi.Input<RegistriesArgs>);
  const secret = pulumi.isSecret(output);
  const resolved = output.apply(async (r) => {
    // A declaration that arrived as a secret may hold a secret anywhere: its messages show no values.
    const normalize = () => normalizeRegistries(r as unknown as RegistriesArgs, { path });
    try {
      return (await secret) ? withValuesHidden(normalize) : normalize();
    } catch (e) {
      if (e instanceof ConfigError) {
        const mapped = new ConfigError(e.problems.map((p) => ({ ...p, path: mapPath(p.path) })));
        throw new pulumi.ResourceError(mapped.message, parent);
      }
      throw e;
    }
  });
  return {
    prepared: { ...(model ? { known: model } : {}), model: resolved, partlyUnknown: known.structural },
    problems: [],
  };
}
