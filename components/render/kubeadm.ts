/**
 * Renderer of the image settings of a kubeadm `ClusterConfiguration`: `imageRepository` and the CoreDNS
 * override that keeps the upstream layout.
 *
 * @module
 */
import * as YAML from "yaml";
import { ConfigError } from "../model/errors";
import { RegistryModel } from "../model/types";
import { mirrorRepository } from "./imageRepository";
import { RenderWarning } from "./types";

/** The registry kubeadm pulls its control-plane images from by default. */
export const KUBEADM_DEFAULT_REGISTRY = "registry.k8s.io";

/** Options of {@link renderKubeadmImageRepository}. */
export interface KubeadmImageRepositoryOptions {
  /** API version of the document. Defaults to `kubeadm.k8s.io/v1beta4` (kubeadm ≥ 1.31); `v1beta3` for older. */
  apiVersion?: "kubeadm.k8s.io/v1beta4" | "kubeadm.k8s.io/v1beta3";
}

/** What {@link renderKubeadmImageRepository} returns. */
export interface KubeadmImageRepository {
  /** A `ClusterConfiguration` document to merge into kubeadm's config, or undefined when nothing is mirrored. */
  readonly content?: string;
  /** The repository, e.g. `registry.aliyuncs.com/google_containers`. */
  readonly repository?: string;
  /** What kubeadm cannot express. */
  readonly warnings: RenderWarning[];
}

/**
 * Render `imageRepository` from the first pull mirror of `registry.k8s.io` in the declaration.
 *
 * kubeadm names every control-plane image `<imageRepository>/<image>:<tag>` (kube-apiserver,
 * kube-controller-manager, kube-scheduler, kube-proxy, pause, etcd). CoreDNS is the exception: upstream it is
 * `registry.k8s.io/coredns/coredns`, but with any other repository kubeadm asks for
 * `<imageRepository>/coredns` (kubeadm `images.GetDNSImage`). A mirror that keeps registry.k8s.io's layout
 * therefore also needs `dns.imageRepository: <repository>/coredns`, which this renders.
 *
 * What cannot be expressed comes back as warnings: only one mirror, no fallback to registry.k8s.io (the
 * images are renamed), and the mirror host's TLS, credentials or plain HTTP must be declared as a registry
 * of its own so that the nodes' runtime files carry them.
 *
 * @throws {ConfigError} for a mirror path other than `/v2/<namespace>`, and for a rewrite.
 * @see https://kubernetes.io/docs/reference/config-api/kubeadm-config.v1beta4/#kubeadm-k8s-io-v1beta4-ClusterConfiguration
 */
export function renderKubeadmImageRepository(
  model: RegistryModel,
  opts: KubeadmImageRepositoryOptions = {},
): KubeadmImageRepository {
  const r = mirrorRepository(model, KUBEADM_DEFAULT_REGISTRY, "kubeadm imageRepository");
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  if (!r.repository) return { warnings: [] };
  const doc = {
    apiVersion: opts.apiVersion ?? "kubeadm.k8s.io/v1beta4",
    kind: "ClusterConfiguration",
    imageRepository: r.repository,
    dns: { imageRepository: `${r.repository}/coredns` },
  };
  const y = new YAML.Document(doc);
  YAML.visit(y, {
    Scalar(key, node) {
      if (key !== "key" && typeof node.value === "string" && /[:/]/.test(node.value))
        node.type = "QUOTE_DOUBLE";
    },
  });
  return { content: y.toString({ lineWidth: 0 }), repository: r.repository, warnings: r.warnings };
}
