/**
 * The configuration of systems the library does not reach over SSH, rendered from the same (merged) declaration
 * as `RegistrySetup` outputs: kind, Talos, Anthos on bare metal, k0s, kubeadm.
 *
 * @module
 */
import { ConfigError, Problem } from "../model/errors";
import { RegistryModel } from "../model/types";
import { renderAnthosRegistryMirrors } from "../render/anthos";
import { renderK0sImagesRepository, renderK0sRegistries } from "../render/k0s";
import { renderKindConfig } from "../render/kind";
import { renderKubeadmImageRepository } from "../render/kubeadm";
import { renderTalosRegistries } from "../render/talos";
import { RenderedFile, RenderWarning } from "../render/types";
import { NodeWarning } from "./node";

/** A system whose registry configuration `RegistrySetup` renders as an output. */
export const RenderTarget = {
  /** kind: `containerdConfigPatches` and the `certs.d` files to mount into every node. */
  Kind: "kind",
  /** Talos: a machine-config patch and the `RegistryMirrorConfig`/`RegistryAuthConfig`/`RegistryTLSConfig` documents. */
  Talos: "talos",
  /** Anthos clusters on bare metal: `registryMirrors` and the files it points to. */
  Anthos: "anthos",
  /** k0s: the containerd drop-in with its hosts files, and `spec.images.repository`. */
  K0s: "k0s",
  /** kubeadm: `ClusterConfiguration.imageRepository`. */
  Kubeadm: "kubeadm",
} as const;
/** One of RenderTarget's values. */
export type RenderTarget = (typeof RenderTarget)[keyof typeof RenderTarget];

/** One rendered file. */
export interface RenderedFileOutput {
  /** Its path (relative to the certs directory for kind, absolute otherwise). */
  path: string;
  /** Its content. */
  content: string;
  /** File mode in octal, e.g. `0644`. */
  mode: string;
  /** Whether it holds a credential or a key. */
  secret: boolean;
}

/** kind's part of a cluster config. Secret when a patch or a file holds a credential. */
export interface KindOutput {
  /** The cluster's `containerdConfigPatches`. */
  containerdConfigPatches: string[];
  /** The files for every node's `/etc/containerd/certs.d` (mount them with `extraMounts`). */
  files: RenderedFileOutput[];
  /** What kind nodes cannot use. */
  warnings: NodeWarning[];
}

/** Talos configuration. Secret when it holds a credential or a client key. */
export interface TalosOutput {
  /** The classic `machine.registries` machine-config patch (YAML). */
  machineConfigPatch: string;
  /** The same as Talos 1.12 documents (multi-document YAML), empty when there is nothing to say. */
  documents: string;
  /** What Talos cannot express. */
  warnings: NodeWarning[];
}

/** Anthos clusters on bare metal. Secret when a file holds a credential. */
export interface AnthosOutput {
  /** The `registryMirrors` section (YAML). */
  registryMirrors: string;
  /** The CA and Docker config files it points to, for the admin workstation. */
  files: RenderedFileOutput[];
  /** What `registryMirrors` cannot express. */
  warnings: NodeWarning[];
}

/** k0s. Secret when a file holds a credential. */
export interface K0sOutput {
  /** The drop-in and its hosts files. */
  files: RenderedFileOutput[];
  /** `spec.images.repository` as a ClusterConfig fragment, when quay.io has a mirror. */
  imagesRepository?: string;
  /** What k0s cannot express. */
  warnings: NodeWarning[];
}

/** kubeadm. */
export interface KubeadmOutput {
  /** A `ClusterConfiguration` document with `imageRepository`, when registry.k8s.io has a mirror. */
  clusterConfiguration?: string;
  /** What kubeadm cannot express. */
  warnings: NodeWarning[];
}

/** Every rendered target, each with whether it holds a secret. */
export interface RenderedTargets {
  kind?: { value: KindOutput; secret: boolean };
  talos?: { value: TalosOutput; secret: boolean };
  anthos?: { value: AnthosOutput; secret: boolean };
  k0s?: { value: K0sOutput; secret: boolean };
  kubeadm?: { value: KubeadmOutput; secret: boolean };
}

const files = (list: RenderedFile[]): RenderedFileOutput[] =>
  list.map((f) => ({ path: f.path, content: f.content, mode: `0${f.mode.toString(8)}`, secret: f.secret }));
const warnings = (list: RenderWarning[]): NodeWarning[] =>
  list.map((w) => ({ path: w.path, message: w.message }));

/**
 * Render the chosen targets.
 *
 * @throws {ConfigError} with every target's problems, each message naming its target.
 */
export function renderTargets(model: RegistryModel, targets: readonly RenderTarget[]): RenderedTargets {
  const out: RenderedTargets = {};
  const problems: Problem[] = [];
  const attempt = (target: RenderTarget, fn: () => void) => {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.push(
        ...e.problems.map((p) => ({ path: p.path, message: `${p.message} (render: ${target})` })),
      );
    }
  };
  for (const target of targets) {
    switch (target) {
      case RenderTarget.Kind:
        attempt(target, () => {
          const k = renderKindConfig(model);
          out.kind = {
            value: {
              containerdConfigPatches: k.containerdConfigPatches,
              files: files(k.files),
              warnings: warnings(k.warnings),
            },
            secret: k.secret,
          };
        });
        break;
      case RenderTarget.Talos:
        attempt(target, () => {
          const t = renderTalosRegistries(model);
          out.talos = {
            value: {
              machineConfigPatch: t.machineConfigPatch,
              documents: t.documents,
              warnings: warnings(t.warnings),
            },
            secret: t.secret,
          };
        });
        break;
      case RenderTarget.Anthos:
        attempt(target, () => {
          const a = renderAnthosRegistryMirrors(model);
          out.anthos = {
            value: { registryMirrors: a.content, files: files(a.files), warnings: warnings(a.warnings) },
            secret: a.files.some((f) => f.secret),
          };
        });
        break;
      case RenderTarget.K0s:
        attempt(target, () => {
          const k = renderK0sRegistries(model);
          const repo = renderK0sImagesRepository(model);
          out.k0s = {
            value: {
              files: files(k.files),
              ...(repo.content !== undefined ? { imagesRepository: repo.content } : {}),
              warnings: warnings([...k.warnings, ...repo.warnings]),
            },
            secret: k.files.some((f) => f.secret),
          };
        });
        break;
      case RenderTarget.Kubeadm:
        attempt(target, () => {
          const k = renderKubeadmImageRepository(model);
          out.kubeadm = {
            value: {
              ...(k.content !== undefined ? { clusterConfiguration: k.content } : {}),
              warnings: warnings(k.warnings),
            },
            secret: false,
          };
        });
        break;
      default: {
        const never: never = target;
        throw new Error(`internal: unknown render target ${String(never)}`);
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out;
}
