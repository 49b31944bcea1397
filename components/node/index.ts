/**
 * The node layer, usable without Pulumi: the runtime profile table, the node plan and its parts, the rollout, the
 * shell script that applies a plan (and its packed form), and the summary line it prints. Import it as
 * `@registry-setup/pulumi-registries/node`.
 *
 * @packageDocumentation
 */
export * from "./entries";
export * from "./profiles";
export {
  checkNodeSettings,
  planNode,
  planParts,
  NodePlan,
  PlanOptions,
  Probe,
  OWNER_RE,
  NODE_RE,
} from "./plan";
export { planRollout, Rollout, RolloutNode } from "./rollout";
export {
  buildNodeScript,
  checkScriptOptions,
  nodeCommand,
  packNodeScript,
  scriptBody,
  shQuote,
  ScriptOptions,
  SCRIPT_FORMAT,
} from "./script";
export { mergeSummaries, parseSummary, ApplySummary, ScriptMode, SUMMARY_PREFIX } from "./summary";
