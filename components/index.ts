/**
 * The Pulumi components of a cluster's container-registry setup, and the types of their arguments and outputs.
 *
 * The pure layers have their own entry points: `@registry-setup/pulumi-registries/render` (the declaration, its
 * normaliser and every renderer), `@registry-setup/pulumi-registries/node` (runtime profiles, node plans, node
 * scripts) and `@registry-setup/pulumi-registries/program` (the whole setup from stack config).
 *
 * @packageDocumentation
 */
export { NodeRegistries, NodeRegistriesArgs } from "./resources/nodeRegistries";
export { ClusterRegistries, ClusterRegistriesArgs } from "./resources/clusterRegistries";
export {
  ImagePullPolicy,
  NodeClass,
  NodeClassRegistries,
  NodeClassRegistriesArgs,
  NodeClassesArgs,
} from "./resources/nodeClassRegistries";
export {
  RegistrySetup,
  RegistrySetupArgs,
  RegistryAddonArgs,
  ServiceAccountResult,
} from "./resources/registrySetup";
export { KubectlArgs } from "./resources/clusterPullSecrets";
export {
  AnthosOutput,
  K0sOutput,
  KindOutput,
  KubeadmOutput,
  RenderedFileOutput,
  RenderTarget,
  TalosOutput,
} from "./resources/renderTargets";
export {
  ClusterArgs,
  HostedRegistryArgs,
  HtpasswdAuthArgs,
  ImageArchiveFormat,
  LocalRegistryHostingArgs,
  PullSecretsArgs,
  PullThroughCacheArgs,
  ResourceListArgs,
  ResourcesArgs,
  ServiceAccountMode,
  ServiceAccountsArgs,
  ServiceArgs,
  ServiceType,
  SideLoadArgs,
  StorageArgs,
  TlsSecretArgs,
  UpstreamCredentialsArgs,
  ZotCacheArgs,
  ZotUpstreamArgs,
} from "./model/cluster";
export { ClusterNode, DriftMode, NodeFile, NodeWarning } from "./resources/node";
export { MicroK8sRegistryAddon, MicroK8sRegistryAddonArgs } from "./resources/microk8sAddon";
export { SideLoad, SideLoadComponentArgs } from "./resources/sideLoad";
export { Credentials, Mirror, Registry, RegistriesInput, Tls } from "./inputs/types";
export { SshConnection, SshProxy } from "./transport/ssh";
export {
  NodeTransport,
  ScriptDelivery,
  Delivered,
  FileStaging,
  FileTransport,
  NodeClassTransport,
  ClassDelivery,
  ClassPartDelivery,
  ClassDelivered,
} from "./transport/types";
export { CredentialsPlacement, NodeRole, ProfileKind, RuntimeProfile } from "./node/profiles/types";
export { ApplySummary, ScriptMode } from "./node/summary";
export { Capability } from "./model/types";
export { ConfigError, Problem } from "./model/errors";
