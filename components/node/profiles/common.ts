/**
 * Small helpers shared by the profile kinds.
 *
 * @module
 */
import { keyPath, Problem } from "../../model/errors";
import { DEFAULT_REGISTRY, RegistryModel } from "../../model/types";
import { RenderWarning } from "../../render/types";
import { describeSince, has, Since, Version } from "./versions";

/** Whether any endpoint of the declaration has an identity token (only the CRI block can carry one). */
export function hasIdentityToken(model: RegistryModel): boolean {
  return model.registries.some(
    (r) => r.server?.auth?.kind === "token" || r.mirrors.some((m) => m.auth?.kind === "token"),
  );
}

/**
 * The problem of a `_default` registry with mirrors on a containerd older than its `certs.d/_default` directory
 * (containerd 1.6.17 / 1.7.0): such a containerd never looks there, so every pull would go to the image's own
 * registry. `undefined` when there is none.
 */
export function defaultHostsProblem(
  model: RegistryModel,
  v: Version,
  since: Since,
  opts: { what: string; at: string; fix?: string },
): Problem | undefined {
  const reg = model.registries.find((r) => r.name === DEFAULT_REGISTRY && r.mirrors.length > 0);
  if (!reg || has(v, since)) return undefined;
  return {
    path: keyPath("registries", DEFAULT_REGISTRY),
    message: `needs ${opts.what} ${describeSince(since)} to read certs.d/_default (the catch-all host directory), but ${opts.at} is ${JSON.stringify(v.text)}: older versions never read it, so pulls would go to each image's own registry; ${opts.fix ?? 'declare the version your nodes run (with its patch, e.g. "1.6.20") if it is one of those, or name each registry'}`,
  };
}

/**
 * The warning for credentials written to the CRI `registry.configs` block on containerd 2.x: deprecated since
 * containerd 1.5, listed by containerd 2.x as a deprecation, scheduled for removal (the target moved from 2.1 to
 * 2.4 and it is still read by 2.4.0-beta.0), and on 2.1+ it makes CRI pull through its local pull path instead
 * of the transfer service (notes/runtimes.md §1.6).
 *
 * @param runtime what runs containerd, for the message (`containerd 2.1`, `MicroK8s 1.35 (containerd 2.1)`).
 * @param localPull whether that containerd is 2.1 or later.
 */
export function criDeprecationWarning(path: string, runtime: string, localPull: boolean): RenderWarning {
  return {
    path: `${path}.credentials`,
    message: `credentials go to the CRI registry.configs block, which ${runtime} reports as deprecated (since containerd 1.5; its removal was planned for 2.4, but 2.4.0-beta.0 still reads it)${localPull ? " and which makes CRI pull through its local pull path instead of the transfer service" : ""}; for registries that answer with a Basic challenge, credentials: "hosts" (an Authorization header in hosts.toml) avoids it`,
  };
}
