/**
 * Renderers for k0s: the containerd drop-in under `/etc/k0s/containerd.d/` that points k0s' containerd at a
 * hosts directory (`config_path`), the hosts directory itself, and `spec.images.repository`.
 *
 * Facts from k0s' sources (k0sproject/k0s): k0s imports `/etc/k0s/containerd.d/*.toml` into its containerd
 * config (`pkg/component/worker/containerd/configurer.go`, not recursive, so hosts files may live in a
 * sub-directory) and reloads containerd when the directory changes; from v1.36.1 k0s runs containerd 2 and
 * refuses a drop-in with `version = 2` or a `plugins."io.containerd.grpc.v1.cri"` table; older k0s (1.27–1.35)
 * run containerd 1.7 and take the version-2 form (docs/runtime.md before and after the containerd 2.2.1 bump).
 *
 * @module
 */
import * as TOML from "@iarna/toml";
import * as YAML from "yaml";
import { ConfigError } from "../model/errors";
import { RegistryModel } from "../model/types";
import { criRegistryPlugin } from "./criRegistry";
import { renderHostsDirectories } from "./hostsToml";
import { mirrorRepository } from "./imageRepository";
import { checkCertsDir, RenderedFile, RenderWarning } from "./types";

/** k0s' containerd drop-in directory. */
export const K0S_DROP_IN_DIR = "/etc/k0s/containerd.d";

/** Options of {@link renderK0sRegistries}. */
export interface K0sRegistriesOptions {
  /**
   * containerd generation of the nodes' k0s: `2` for k0s ≥ v1.36.1 (drop-in `version = 3`, plugin
   * `io.containerd.cri.v1.images`), `1` for k0s 1.27–1.35 (`version = 2`, `io.containerd.grpc.v1.cri`).
   * Defaults to `2`.
   */
  containerd?: 1 | 2;
  /** The hosts directory. Defaults to `/etc/k0s/containerd.d/certs.d` (as k0s' documentation). */
  certsDir?: string;
  /** Credentials in hosts.toml headers (see the hosts.toml renderer). Defaults to `true`. */
  credentials?: boolean;
}

/** What {@link renderK0sRegistries} returns. */
export interface K0sRegistries {
  /** The drop-in `/etc/k0s/containerd.d/registries.toml` and every hosts.toml, CA and key file, sorted. */
  readonly files: RenderedFile[];
  /** From the hosts.toml renderer. */
  readonly warnings: RenderWarning[];
}

/**
 * Render the drop-in and the hosts directory it names. The drop-in only sets the CRI registry `config_path`;
 * the mirrors, CAs and credentials are containerd hosts files (see the hosts.toml renderer), which containerd
 * reads on every pull.
 *
 * @throws {ConfigError} as the hosts.toml renderer does, and for a `certsDir` that is the drop-in directory
 *   itself (k0s would import nothing from it, but the layout would be ambiguous).
 * @see https://docs.k0sproject.io/stable/runtime/#configuring-oci-registry-mirrors
 */
export function renderK0sRegistries(model: RegistryModel, opts: K0sRegistriesOptions = {}): K0sRegistries {
  const certsDir = checkCertsDir(opts.certsDir ?? `${K0S_DROP_IN_DIR}/certs.d`, `${K0S_DROP_IN_DIR}/certs.d`);
  if (certsDir === K0S_DROP_IN_DIR) {
    throw new ConfigError([
      {
        path: "certsDir",
        message: `must not be ${K0S_DROP_IN_DIR} itself: use a sub-directory such as ${K0S_DROP_IN_DIR}/certs.d`,
      },
    ]);
  }
  const generation = opts.containerd ?? 2;
  const version = generation === 2 ? 3 : 2;
  const dropIn = TOML.stringify({
    version,
    plugins: { [criRegistryPlugin(version)]: { registry: { config_path: certsDir } } },
  } as TOML.JsonMap);
  const hosts = renderHostsDirectories(model, {
    certsDir,
    ...(opts.credentials !== undefined ? { credentials: opts.credentials } : {}),
  });
  const files: RenderedFile[] = [
    { path: `${K0S_DROP_IN_DIR}/registries.toml`, content: dropIn, mode: 0o644, secret: false },
    ...hosts.files,
  ].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, warnings: hosts.warnings };
}

/** The registry k0s' Linux system images come from (`quay.io/k0sproject/…`, k0s `pkg/constant`). */
export const K0S_IMAGES_REGISTRY = "quay.io";

/** What {@link renderK0sImagesRepository} returns. */
export interface K0sImagesRepository {
  /** `spec.images.repository` as a ClusterConfig fragment, or undefined when quay.io has no mirror. */
  readonly content?: string;
  readonly repository?: string;
  readonly warnings: RenderWarning[];
}

/**
 * Render `spec.images.repository` from the first pull mirror of `quay.io`. k0s replaces the registry host of
 * every system image with it (`quay.io/k0sproject/coredns` → `<repository>/k0sproject/coredns`; its Windows
 * images from registry.k8s.io and docker.io too), so the mirror must serve quay.io's layout.
 *
 * @throws {ConfigError} for a mirror path other than `/v2/<namespace>`, and for a rewrite.
 * @see https://docs.k0sproject.io/stable/configuration/#specimages
 */
export function renderK0sImagesRepository(model: RegistryModel): K0sImagesRepository {
  const r = mirrorRepository(model, K0S_IMAGES_REGISTRY, "k0s spec.images.repository");
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  if (!r.repository) return { warnings: [] };
  const y = new YAML.Document({ spec: { images: { repository: r.repository } } });
  YAML.visit(y, {
    Scalar(key, node) {
      if (key !== "key" && typeof node.value === "string") node.type = "QUOTE_DOUBLE";
    },
  });
  return { content: y.toString({ lineWidth: 0 }), repository: r.repository, warnings: r.warnings };
}
