/**
 * The rollout of a cluster: which nodes' service-restarting changes go together, and what each waits for. Pure.
 *
 * Changes that restart or reload nothing (hosts files, CA files, kubelet credentials) never wait: they go to every
 * node at once. Changes that restart or reload a service roll: nodes that may have one are grouped, in the order
 * given, into batches of `maxUnavailable`, and each batch starts only when the previous one succeeded.
 *
 * @module
 */

/** A node as the rollout sees it. */
export interface RolloutNode {
  /** The node's name. */
  readonly name: string;
  /** Whether its plan has a part whose change restarts or reloads a service. */
  readonly rolls: boolean;
}

/** The rollout of a cluster. */
export interface Rollout {
  /** The batches of rolling nodes, in order. */
  readonly batches: string[][];
  /** For each rolling node, the nodes (the whole previous batch) its restarting part waits for. */
  readonly waitsFor: Readonly<Record<string, readonly string[]>>;
}

/**
 * Plan the rollout.
 *
 * @param nodes the nodes in declaration order.
 * @param maxUnavailable how many rolling nodes may restart at the same time (at least 1).
 * @throws {RangeError} when `maxUnavailable` is not a whole number of at least 1.
 */
export function planRollout(nodes: readonly RolloutNode[], maxUnavailable: number): Rollout {
  if (!Number.isInteger(maxUnavailable) || maxUnavailable < 1) {
    throw new RangeError(`maxUnavailable must be a whole number of at least 1, got ${maxUnavailable}`);
  }
  const batches: string[][] = [];
  const waitsFor: Record<string, string[]> = {};
  for (const n of nodes) {
    if (!n.rolls) continue;
    if (batches.length === 0 || batches[batches.length - 1].length === maxUnavailable) batches.push([]);
    const current = batches[batches.length - 1];
    waitsFor[n.name] = batches.length > 1 ? [...batches[batches.length - 2]] : [];
    current.push(n.name);
  }
  return { batches, waitsFor };
}
