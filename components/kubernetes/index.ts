/**
 * The Kubernetes objects of a cluster's registry setup, as plain objects (no Pulumi): the in-cluster registry and
 * caches, pull Secrets, the KEP-1755 ConfigMap, the ServiceAccount `imagePullSecrets` algebra, and the node classes'
 * DaemonSets that apply the node script from inside the cluster (with their agent). Import it as
 * `@registry-setup/pulumi-registries/kubernetes`.
 *
 * @packageDocumentation
 */
export * from "./objects";
export { clusterManifests, ClusterManifests } from "./clusterManifests";
export * from "./imagePullSecrets";
export { localRegistryHostingObject } from "./localRegistryHosting";
export { clusterEndpoints, nodeRegistryEntries } from "./nodeEndpoints";
export { pullSecretObjects, pullSecretPayload, DOCKER_CONFIG_JSON_TYPE } from "./pullSecrets";
export {
  distributionObjects,
  zotObjects,
  RegistryServerObjects,
  CONFIG_HASH_ANNOTATION,
} from "./registryServer";
export {
  applyDaemonSet,
  checkDaemonSet,
  nodeAgentNamespaceObject,
  nodeClassLabels,
  nodeClassObjectName,
  payloadObject,
  CLASS_LABEL,
  NODE_AGENT_NAME,
  OWNER_LABEL,
  POD_SECURITY_LABELS,
  NodeClassMode,
  NodeClassRole,
  NodeClassSpec,
  PayloadRef,
} from "./nodeClass";
export {
  agentCommand,
  AGENT_SCRIPT,
  CHECK_READINESS_COMMAND,
  DEFAULT_AGENT_IMAGE,
  MODE_ANNOTATION,
  PAYLOAD_ANNOTATION_PREFIX,
  PAYLOAD_DIR,
  PAYLOAD_KEY,
  STATUS_DIR,
} from "./nodeAgent";
