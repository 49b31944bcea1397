/**
 * kind cluster configuration for a registry model: `containerdConfigPatches` for the kind `Cluster` config
 * and the `certs.d` files to mount into every node.
 *
 * kind applies each patch as a TOML merge patch to the node's `/etc/containerd/config.toml` (a
 * `version = 2` file, also on node images with containerd 2.x, which migrates it) and restarts containerd.
 *
 * @see https://kind.sigs.k8s.io/docs/user/local-registry/
 * @see https://kind.sigs.k8s.io/docs/user/configuration/#containerd-config-patches
 * @module
 */
import * as TOML from "@iarna/toml";
import { keyPath } from "../model/errors";
import { RegistryModel, ResolvedTls } from "../model/types";
import { criRegistryPlugin, renderCriRegistryBlock } from "./criRegistry";
import { renderHostsDirectories } from "./hostsToml";
import { RenderedFile, RenderWarning } from "./types";

/** Where kind node images keep containerd's registry host directories. */
export const KIND_CERTS_DIR = "/etc/containerd/certs.d";

/** Options of {@link renderKindConfig}. */
export interface KindOptions {
  /**
   * `config_path` (default): a patch that points containerd at `certsDir`, plus `hosts.toml` files.
   * `legacy`: the deprecated CRI `registry.mirrors`/`configs` block as the patch (for old node images; TLS
   * files are still written, but containerd 2.x ignores `configs.tls`).
   */
  readonly mode?: "config_path" | "legacy";
  /** The node directory for registry files. Defaults to {@link KIND_CERTS_DIR}. */
  readonly certsDir?: string;
  /**
   * The directory on the machine that runs kind where the caller writes {@link KindConfig.files}. When set,
   * {@link KindConfig.extraMounts} mounts it read-only at `certsDir` in every node.
   */
  readonly hostDir?: string;
}

/** One kind `extraMounts` entry (`nodes[].extraMounts`). */
export interface KindExtraMount {
  /** Path on the machine that runs kind. */
  readonly hostPath: string;
  /** Path inside the node container. */
  readonly containerPath: string;
  /** Always `true`: nodes only read these files. */
  readonly readOnly: boolean;
}

/** What to put into a kind `Cluster` config. */
export interface KindConfig {
  /** The cluster's `containerdConfigPatches`. Secret when {@link KindConfig.secret} is true. */
  readonly containerdConfigPatches: string[];
  /** Files for the nodes' `certsDir`, with paths relative to it (e.g. `docker.io/hosts.toml`). */
  readonly files: RenderedFile[];
  /** Mount for every node's `extraMounts`, when {@link KindOptions.hostDir} is given. */
  readonly extraMounts?: KindExtraMount[];
  /** Settings kind nodes cannot use and that were left out. */
  readonly warnings: RenderWarning[];
  /** True when a patch or a file holds a credential. */
  readonly secret: boolean;
}

/**
 * Render a kind cluster's registry configuration.
 *
 * In `config_path` mode the patch always sets `config_path`: kind's docs say node images from v0.27 no longer
 * need it, but containerd only defaults `config_path` (to `/etc/containerd/certs.d:/etc/docker/certs.d`)
 * from 2.2, and the patch is harmless where it is the default.
 *
 * @throws {ConfigError} as {@link renderHostsDirectories} (`config_path`) or {@link renderCriRegistryBlock}
 *   (`legacy`) do, e.g. for identity tokens in `config_path` mode or `fallback: false` in `legacy` mode.
 * @see https://kind.sigs.k8s.io/docs/user/local-registry/
 * @see https://github.com/containerd/containerd/blob/main/docs/hosts.md
 */
export function renderKindConfig(model: RegistryModel, opts: KindOptions = {}): KindConfig {
  const certsDir = (opts.certsDir ?? KIND_CERTS_DIR).replace(/\/+$/, "");
  const mode = opts.mode ?? "config_path";
  let patches: string[];
  let absolute: RenderedFile[];
  const warnings: RenderWarning[] = [];
  let secret: boolean;

  if (mode === "config_path") {
    const patch = { plugins: { [criRegistryPlugin(2)]: { registry: { config_path: certsDir } } } };
    patches = [TOML.stringify(patch)];
    const hosts = renderHostsDirectories(model, { certsDir });
    absolute = hosts.files;
    warnings.push(...hosts.warnings);
    secret = hosts.files.some((f) => f.secret);
  } else {
    const cri = renderCriRegistryBlock(model, {
      configVersion: 2,
      certsDir,
      auth: true,
      tls: true,
      mirrors: true,
    });
    patches = cri.block === undefined ? [] : [cri.block];
    absolute = cri.files;
    warnings.push(...cri.warnings);
    for (const r of model.registries) {
      const endpoints: { ep: { tls: ResolvedTls }; path: string }[] = r.mirrors.map((m, i) => ({
        ep: m,
        path: `${keyPath("registries", r.name)}.mirrors[${i}]`,
      }));
      if (r.server) endpoints.push({ ep: r.server, path: keyPath("registries", r.name) });
      for (const { ep, path } of endpoints) {
        if (ep.tls.ca || ep.tls.clientCert || ep.tls.insecureSkipVerify) {
          warnings.push({
            path: `${path}.tls`,
            message:
              "is ignored by kind node images with containerd 2.x (v0.27 and later), which have no registry.configs.tls: use mode config_path",
          });
        }
      }
    }
    secret = cri.secret || cri.files.some((f) => f.secret);
  }

  const files = absolute.map((f) => ({ ...f, path: f.path.slice(certsDir.length + 1) }));
  const extraMounts =
    opts.hostDir !== undefined && files.length > 0
      ? [{ hostPath: opts.hostDir, containerPath: certsDir, readOnly: true }]
      : undefined;
  return {
    containerdConfigPatches: patches,
    files,
    ...(extraMounts ? { extraMounts } : {}),
    warnings,
    secret,
  };
}
