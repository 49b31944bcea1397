/**
 * The pure layer, usable without Pulumi: the registry declaration and its normaliser, and every renderer (model in,
 * file text out). Import it as `@registry-setup/pulumi-registries/render`.
 *
 * @packageDocumentation
 */
// The declaration and its normalised model
export * from "../model/types";
export { withValuesHidden } from "../model/errors";
export { ConfigError, Problem } from "../model/errors";
export { normalizeRegistries, NormalizeOptions } from "../model/normalize";

// Renderers (pure: model in, text out)
export { RenderedFile, RenderWarning } from "./types";
export {
  basicAuthHeader,
  renderHostsDirectories,
  renderHostsDirectory,
  HostsTomlOptions,
  HostsDirectory,
  HostsDirectories,
} from "./hostsToml";
export { renderCriRegistryBlock, spliceCriBlock, criRegistryPlugin } from "./criRegistry";
export {
  beginMarker,
  endMarker,
  findManagedBlock,
  spliceManagedBlock,
  stripManagedBlock,
  MANAGED_BLOCK_ID,
  ManagedBlockLocation,
} from "./managedBlock";
export {
  enableConfigPath,
  EnableConfigPathOptions,
  EnableConfigPathResult,
  REGISTRY_TABLE,
} from "./configPath";
export { renderRegistriesYaml } from "./registriesYaml";
export { renderRegistriesConf, CONTAINERS_CERTS_DIR } from "./crio";
export {
  dockerDaemonEntries,
  mergeDaemonJson,
  mergeDaemonJsonText,
  DaemonJsonEntries,
  DOCKER_CERTS_DIR,
} from "./daemonJson";
export { renderDockerConfigJson } from "./dockerConfigJson";
export { renderKindConfig, KIND_CERTS_DIR } from "./kind";
export { renderTalosRegistries } from "./talos";

// The cluster side: the in-cluster registry, caches, pull Secrets, and the systems configured by cluster config
export * from "../model/cluster";
export { normalizeCluster, NormalizeClusterOptions } from "../model/normalizeCluster";
export {
  renderDistributionConfig,
  DistributionConfig,
  DistributionConfigOptions,
} from "./distributionConfig";
export { renderZotConfig, renderZotCredentials, zotNamespace, ZotConfigOptions } from "./zotConfig";
export { renderLocalRegistryHosting } from "./localRegistryHosting";
export { renderAnthosRegistryMirrors, AnthosRegistryMirrors, AnthosRegistryMirrorsOptions } from "./anthos";
export { renderK0sRegistries, renderK0sImagesRepository, K0sRegistries, K0sImagesRepository } from "./k0s";
export { renderKubeadmImageRepository, KubeadmImageRepository } from "./kubeadm";
