/**
 * Public surface of the library: the registry model, the renderers, the node layer and the components.
 *
 * @packageDocumentation
 */
// Model
export * from "./model/types";
export { ConfigError, Problem } from "./model/errors";
export { normalizeRegistries, NormalizeOptions } from "./model/normalize";

// Renderers (pure: model in, text out)
export { RenderedFile, RenderWarning } from "./render/types";
export {
  basicAuthHeader,
  renderHostsDirectories,
  renderHostsDirectory,
  HostsTomlOptions,
  HostsDirectory,
  HostsDirectories,
} from "./render/hostsToml";
export { renderCriRegistryBlock, spliceCriBlock, criRegistryPlugin } from "./render/criRegistry";
export {
  beginMarker,
  endMarker,
  findManagedBlock,
  spliceManagedBlock,
  stripManagedBlock,
  MANAGED_BLOCK_ID,
  ManagedBlockLocation,
} from "./render/managedBlock";
export {
  enableConfigPath,
  EnableConfigPathOptions,
  EnableConfigPathResult,
  REGISTRY_TABLE,
} from "./render/configPath";
export { renderRegistriesYaml } from "./render/registriesYaml";
export { renderRegistriesConf, CONTAINERS_CERTS_DIR } from "./render/crio";
export {
  dockerDaemonEntries,
  mergeDaemonJson,
  mergeDaemonJsonText,
  DaemonJsonEntries,
  DOCKER_CERTS_DIR,
} from "./render/daemonJson";
export { renderDockerConfigJson } from "./render/dockerConfigJson";
export { renderKindConfig, KIND_CERTS_DIR } from "./render/kind";
export { renderTalosRegistries } from "./render/talos";

// Node layer (pure: a plan and the script that applies it)
export * from "./node/profiles";
export {
  planNode,
  NodePlan,
  PlanEntry,
  PlanOptions,
  EntryKind,
  Effect,
  Check,
  Probe,
  OWNER_RE,
} from "./node/plan";
export {
  buildNodeScript,
  nodeCommand,
  shQuote,
  ScriptMode,
  ScriptOptions,
  SCRIPT_FORMAT,
} from "./node/script";
export { parseSummary, ApplySummary, SUMMARY_PREFIX } from "./node/summary";

// Components
export {
  NodeRegistries,
  NodeRegistriesArgs,
  NodeArgs,
  ApplySettings,
  RegistriesInput,
  DeepInput,
} from "./node/nodeRegistries";
export { ClusterRegistries, ClusterRegistriesArgs } from "./node/clusterRegistries";
