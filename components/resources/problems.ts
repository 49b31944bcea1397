/**
 * How components report problems: every problem at once, with its property path, as a `ResourceError`.
 *
 * @module
 */
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, Problems } from "../model/errors";
import { ClusterNode } from "./node";

/** Throw every recorded problem as one `ResourceError` of `resource` (nothing when there is none). */
export function throwProblems(problems: Problems, resource: pulumi.Resource): void {
  if (problems.count > 0)
    throw new pulumi.ResourceError(new ConfigError([...problems.all]).message, resource);
}

/** Warn, at preview already, about a node whose host key is not pinned (nothing then checks who answers). */
export function warnWithoutHostKey(node: ClusterNode, resource: pulumi.Resource): void {
  const c = node.connection as unknown;
  if (pulumi.Output.isInstance(c)) return;
  if ((c as { hostKey?: unknown } | undefined)?.hostKey === undefined) {
    void pulumi.log.warn(
      `node ${JSON.stringify(node.name)}: connection.hostKey is not set, so the SSH host key is not checked and anyone who can answer for ${JSON.stringify(
        pulumi.Output.isInstance((c as { host?: unknown }).host)
          ? "its host"
          : (c as { host?: unknown }).host,
      )} receives its script (set hostKey from \`ssh-keyscan\`)`,
      resource,
    );
  }
}
