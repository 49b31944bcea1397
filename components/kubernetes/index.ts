/**
 * The Kubernetes objects of a cluster's registry setup, as plain objects (no Pulumi): the in-cluster registry and
 * caches, pull Secrets, the KEP-1755 ConfigMap, and the ServiceAccount `imagePullSecrets` algebra. Import it as
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
