/**
 * How `RegistrySetup` points the nodes at what runs in the cluster: the registry entries for the in-cluster servers
 * and the addon, merged into the user's declaration (conflicts recorded with their paths), and the mapping of
 * problem paths in the merged declaration back to what the user wrote.
 *
 * @module
 * @internal
 */
import * as pulumi from "@pulumi/pulumi";
import { RegistriesInput, Registry } from "../inputs/types";
import { nodeRegistryEntries } from "../kubernetes/nodeEndpoints";
import { ClusterModel } from "../model/cluster";
import { keyPath, Problems, show } from "../model/errors";
import { isObject } from "../model/fields";
import { MirrorArgs, RegistryArgs } from "../model/types";

/** One registry entry the setup adds to the declaration, and where it comes from (for messages). */
export interface AddedEntry {
  /** The registry name (`host:port` or the upstream's name). */
  readonly name: string;
  /** What the nodes get for it. */
  readonly entry: RegistryArgs;
  /** The declaration's path of what it points at, e.g. `cluster.caches["docker.io"]`. */
  readonly source: string;
}

/**
 * The entries that point nodes at the in-cluster servers and the addon. Servers with TLS are left out: their CA is
 * in a Secret in the cluster, not in the declaration, so the user declares them (with `tls.ca`) like any registry.
 */
export function addedEntries(
  cluster: ClusterModel | undefined,
  nodeAddress: string | undefined,
  addonEndpoint: string | undefined,
): AddedEntry[] {
  const out: AddedEntry[] = [];
  if (addonEndpoint) out.push({ name: addonEndpoint, entry: { plainHttp: true }, source: "registryAddon" });
  if (!cluster || nodeAddress === undefined) return out;
  const add = (part: ClusterModel, source: string) => {
    for (const [name, entry] of Object.entries(nodeRegistryEntries(part, nodeAddress)))
      out.push({ name, entry, source });
  };
  const none: ClusterModel = { caches: [], sideLoads: [] };
  if (cluster.registry) add({ ...none, registry: cluster.registry }, "cluster.registry");
  for (const c of cluster.caches) {
    if (!c.tls) add({ ...none, caches: [c] }, keyPath("cluster.caches", c.proxy?.upstream ?? c.name));
  }
  if (cluster.zot) add({ ...none, zot: cluster.zot }, "cluster.zot");
  return out;
}

const sameEndpoint = (a: unknown, b: string) =>
  typeof a === "string" && a.replace(/\/+$/, "") === b.replace(/\/+$/, "");

/** What {@link mergeDeclaration} returns. */
export interface MergedDeclaration {
  /** The declaration the nodes get. */
  readonly registries: RegistriesInput;
  /**
   * How many mirrors were put before the user's own, by registry name: problems about the user's mirrors are
   * found at shifted positions in the merged declaration (see {@link userMirrorPath}).
   */
  readonly prepended: ReadonlyMap<string, number>;
}

/**
 * The user's declaration with the added entries merged in: a new registry name is added as is; a plain-HTTP entry
 * for a name the user declared too is a conflict (the node would get two meanings for it); added mirrors go before
 * the user's own mirrors of that registry (the cache is tried before anything else), and a mirror the user also
 * lists is a conflict (then nothing is added to that registry). Conflicts known at construction are recorded;
 * those inside Outputs fail the update.
 */
export function mergeDeclaration(
  problems: Problems,
  user: RegistriesInput | undefined,
  added: readonly AddedEntry[],
  parent: pulumi.Resource,
): MergedDeclaration {
  const prepended = new Map<string, number>();
  if (added.length === 0) return { registries: user ?? {}, prepended };
  if (pulumi.Output.isInstance(user)) {
    for (const a of added) {
      if (a.entry.mirrors) prepended.set(a.name, (prepended.get(a.name) ?? 0) + a.entry.mirrors.length);
    }
    const registries = (user as pulumi.Output<Record<string, pulumi.Input<Registry>>>).apply((u) => {
      const late = new Problems();
      const merged = mergePlain(late, u ?? {}, added, new Map());
      if (late.count > 0)
        throw new pulumi.ResourceError(late.all.map((p) => `${p.path}: ${p.message}`).join("\n"), parent);
      return merged;
    });
    return { registries, prepended };
  }
  const registries = mergePlain(
    problems,
    (user as Record<string, pulumi.Input<Registry>> | undefined) ?? {},
    added,
    prepended,
  );
  return { registries, prepended };
}

/**
 * A problem's path in the merged declaration as the user wrote it: `registries["docker.io"].mirrors[2]` is the
 * user's `mirrors[1]` when one mirror was put before theirs.
 */
export function userMirrorPath(prepended: ReadonlyMap<string, number>): (path: string) => string {
  return (path) =>
    path.replace(
      /^(registries\[("(?:[^"\\]|\\.)*")\]\.mirrors\[)(\d+)\]/,
      (all, head: string, key: string, i: string) => {
        const k = prepended.get(JSON.parse(key) as string) ?? 0;
        return Number(i) >= k ? `${head}${Number(i) - k}]` : all;
      },
    );
}

function mergePlain(
  problems: Problems,
  user: Record<string, pulumi.Input<Registry>>,
  added: readonly AddedEntry[],
  prepended: Map<string, number>,
): Record<string, pulumi.Input<Registry>> {
  const out: Record<string, pulumi.Input<Registry>> = { ...user };
  const mirrorsBy = new Map<string, { mirrors: MirrorArgs[]; sources: string[] }>();
  for (const a of added) {
    if (a.entry.mirrors === undefined) {
      if (Object.prototype.hasOwnProperty.call(user, a.name)) {
        problems.add(
          keyPath("registries", a.name),
          `is also the endpoint of ${a.source}, which the nodes are pointed at already: drop this entry`,
        );
      } else out[a.name] = a.entry as Registry;
      continue;
    }
    const m = mirrorsBy.get(a.name) ?? { mirrors: [], sources: [] };
    m.mirrors.push(...a.entry.mirrors);
    m.sources.push(...a.entry.mirrors.map(() => a.source));
    mirrorsBy.set(a.name, m);
  }
  for (const [name, { mirrors, sources }] of mirrorsBy) {
    const mine = user[name];
    if (mine === undefined) {
      out[name] = { mirrors } as Registry;
      prepended.set(name, mirrors.length);
      continue;
    }
    const merge = (
      probs: Problems,
      reg: Registry | undefined,
      theirs: pulumi.Input<pulumi.Input<MirrorArgs>[]> | undefined,
    ) => {
      if (theirs === undefined) return { ...reg, mirrors } as Registry;
      if (pulumi.Output.isInstance(theirs)) {
        prepended.set(name, mirrors.length);
        return {
          ...reg,
          mirrors: pulumi.output(theirs).apply((t) => [...mirrors, ...(t ?? [])]),
        } as Registry;
      }
      let clash = false;
      (theirs as pulumi.Input<MirrorArgs>[]).forEach((t, i) => {
        const ep =
          isObject(t) && !pulumi.Output.isInstance(t) ? (t as { endpoint?: unknown }).endpoint : undefined;
        const at = mirrors.findIndex((m) => sameEndpoint(ep, m.endpoint));
        if (at >= 0) {
          clash = true;
          probs.add(
            `${keyPath("registries", name)}.mirrors[${i}].endpoint`,
            `${show(ep)} is also the endpoint of ${sources[at]}, which the nodes are pointed at already: drop this mirror`,
          );
        }
      });
      // A clash leaves the user's list as written (the problem is reported; nothing is reported twice).
      if (clash) return reg as Registry;
      prepended.set(name, mirrors.length);
      return { ...reg, mirrors: [...mirrors, ...(theirs as pulumi.Input<MirrorArgs>[])] } as Registry;
    };
    out[name] = pulumi.Output.isInstance(mine)
      ? pulumi.output(mine).apply((r) => {
          const late = new Problems();
          const merged = merge(late, r, r?.mirrors as MirrorArgs[] | undefined);
          if (late.count > 0) throw new Error(late.all.map((p) => `${p.path}: ${p.message}`).join("\n"));
          return merged;
        })
      : merge(
          problems,
          mine as Registry,
          (mine as Registry).mirrors as pulumi.Input<pulumi.Input<MirrorArgs>[]> | undefined,
        );
  }
  return out;
}
