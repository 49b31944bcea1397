/**
 * The whole setup from Pulumi stack config (what the root program and the templates run), and `render`: what a
 * stack would write, computed without the Pulumi CLI. Import it as `@registry-setup/pulumi-registries/program`.
 *
 * @packageDocumentation
 */
export {
  setupFromConfig,
  registriesFromConfig,
  nodesFromConfig,
  withCredentials,
  readableFiles,
  NodeConfig,
  ProxyConfig,
  SetupOutputs,
  SshKeys,
} from "./fromConfig";
export {
  renderProgram,
  writeTree,
  compareTree,
  stackConfig,
  programEntry,
  RenderProgramOptions,
  RenderedTree,
  IndexEntry,
  REDACTED,
} from "./render";
