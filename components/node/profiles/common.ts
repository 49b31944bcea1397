/**
 * Small helpers shared by the profile kinds.
 *
 * @module
 */
import { RegistryModel } from "../../model/types";

/** Whether any endpoint of the declaration has an identity token (only the CRI block can carry one). */
export function hasIdentityToken(model: RegistryModel): boolean {
  return model.registries.some(
    (r) => r.server?.auth?.kind === "token" || r.mirrors.some((m) => m.auth?.kind === "token"),
  );
}
