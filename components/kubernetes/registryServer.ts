/**
 * Builders of the objects that run a registry in the cluster: a PersistentVolumeClaim, the config (a
 * ConfigMap: it never holds a secret), a Deployment and a Service, for a distribution registry (hosted or
 * pull-through cache) and for zot.
 *
 * @module
 */
import * as crypto from "crypto";
import { DistributionServer, RegistryServer, ServiceType, ZotServer } from "../model/cluster";
import {
  DISTRIBUTION_PATHS,
  PROXY_PASSWORD_ENV,
  PROXY_USERNAME_ENV,
  renderDistributionConfig,
} from "../render/distributionConfig";
import { RenderWarning } from "../render/types";
import { renderZotConfig, ZOT_PATHS } from "../render/zotConfig";
import { appLabels, KubeObject } from "./objects";

/** The annotation on the Pod template that carries the config's hash, so that a config change rolls the Pod. */
export const CONFIG_HASH_ANNOTATION = "registry-setup.io/config-sha256";

/** The container port's name, used by the probes and the Service. */
const PORT_NAME = "registry";

/** The objects of one registry server, in the order they should be created. */
export interface RegistryServerObjects {
  readonly claim: KubeObject;
  readonly config: KubeObject;
  readonly deployment: KubeObject;
  readonly service: KubeObject;
  /** From the config renderer. */
  readonly warnings: RenderWarning[];
}

/**
 * The objects of a distribution registry (hosted, or a pull-through cache).
 *
 * - One replica with the `Recreate` strategy: the claim is ReadWriteOnce, and a rolling update would start the
 *   new Pod (possibly on another node) before the old one lets go of it.
 * - Probes: `GET /v2/` when the registry has no auth. With htpasswd auth `/v2/` answers 401, so the probes ask
 *   for `/`, which distribution answers 200 while its storage-driver health check passes (503 otherwise:
 *   distribution wraps every route in its health handler).
 * - Upstream credentials of a cache come from their Secret as `REGISTRY_PROXY_USERNAME`/`…_PASSWORD`.
 * - The Pod template carries the config's SHA-256, so a config change rolls the Pod (a mounted ConfigMap is
 *   updated in place, but distribution reads its config only at start-up).
 */
export function distributionObjects(server: DistributionServer): RegistryServerObjects {
  const { content, warnings } = renderDistributionConfig(server);
  const component = server.proxy ? "pull-through-cache" : "registry";
  const labels = appLabels("registry", server.name, component);
  const scheme = server.tls ? "HTTPS" : "HTTP";
  const probePath = server.auth ? "/" : "/v2/";

  const env: unknown[] = [];
  if (server.proxy?.credentials) {
    const c = server.proxy.credentials;
    env.push(
      { name: PROXY_USERNAME_ENV, valueFrom: { secretKeyRef: { name: c.secretName, key: c.usernameKey } } },
      { name: PROXY_PASSWORD_ENV, valueFrom: { secretKeyRef: { name: c.secretName, key: c.passwordKey } } },
    );
  }
  const mounts: unknown[] = [
    { name: "data", mountPath: DISTRIBUTION_PATHS.rootDirectory },
    { name: "config", mountPath: DISTRIBUTION_PATHS.configDir, readOnly: true },
  ];
  const volumes: unknown[] = [
    { name: "data", persistentVolumeClaim: { claimName: server.name } },
    { name: "config", configMap: { name: server.name } },
  ];
  if (server.auth) {
    mounts.push({ name: "auth", mountPath: DISTRIBUTION_PATHS.authDir, readOnly: true });
    volumes.push({
      name: "auth",
      secret: {
        secretName: server.auth.secretName,
        items: [{ key: server.auth.key, path: server.auth.key }],
      },
    });
  }
  if (server.tls) {
    mounts.push({ name: "certs", mountPath: DISTRIBUTION_PATHS.certsDir, readOnly: true });
    volumes.push({ name: "certs", secret: { secretName: server.tls.secretName } });
  }
  const container = {
    name: "registry",
    image: server.image,
    // The library images' entrypoints differ between 2.x and 3.x (config path, wrapper script); the binary is
    // /bin/registry in both, so the command names it and the config explicitly.
    command: ["registry", "serve", `${DISTRIBUTION_PATHS.configDir}/config.yml`],
    ports: [{ name: PORT_NAME, containerPort: 5000, protocol: "TCP" }],
    ...(env.length > 0 ? { env } : {}),
    readinessProbe: probe(probePath, scheme, { periodSeconds: 10 }),
    livenessProbe: probe(probePath, scheme, { initialDelaySeconds: 10, periodSeconds: 20 }),
    resources: resourcesOf(server),
    securityContext: { allowPrivilegeEscalation: false },
    volumeMounts: mounts,
  };
  return {
    claim: claim(server, labels),
    config: {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: server.name, namespace: server.namespace, labels: { ...labels } },
      data: { "config.yml": content },
    },
    deployment: deployment(server, labels, container, volumes, content),
    service: service(server, labels),
    warnings,
  };
}

/**
 * The objects of a zot cache. The image's entrypoint is `/usr/bin/zot` with `serve /etc/zot/config.json`
 * (zot `build/Dockerfile`); the ConfigMap is mounted over `/etc/zot`. The credentials Secret, when declared,
 * is mounted read-only and named in the config. Probes: `GET /v2/` (zot has no auth here).
 */
export function zotObjects(zot: ZotServer): RegistryServerObjects {
  const content = renderZotConfig(zot);
  const labels = appLabels("zot", zot.name, "pull-through-cache");
  const mounts: unknown[] = [
    { name: "data", mountPath: ZOT_PATHS.rootDirectory },
    { name: "config", mountPath: ZOT_PATHS.configDir, readOnly: true },
  ];
  const volumes: unknown[] = [
    { name: "data", persistentVolumeClaim: { claimName: zot.name } },
    { name: "config", configMap: { name: zot.name } },
  ];
  if (zot.credentialsSecret) {
    mounts.push({ name: "credentials", mountPath: ZOT_PATHS.credentialsDir, readOnly: true });
    volumes.push({
      name: "credentials",
      secret: {
        secretName: zot.credentialsSecret,
        items: [{ key: ZOT_PATHS.credentialsKey, path: ZOT_PATHS.credentialsKey }],
      },
    });
  }
  const container = {
    name: "zot",
    image: zot.image,
    args: ["serve", `${ZOT_PATHS.configDir}/config.json`],
    ports: [{ name: PORT_NAME, containerPort: 5000, protocol: "TCP" }],
    readinessProbe: probe("/v2/", "HTTP", { periodSeconds: 10 }),
    livenessProbe: probe("/v2/", "HTTP", { initialDelaySeconds: 10, periodSeconds: 20 }),
    resources: resourcesOf(zot),
    securityContext: { allowPrivilegeEscalation: false },
    volumeMounts: mounts,
  };
  return {
    claim: claim(zot, labels),
    config: {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: zot.name, namespace: zot.namespace, labels: { ...labels } },
      data: { "config.json": content },
    },
    deployment: deployment(zot, labels, container, volumes, content),
    service: service(zot, labels),
    warnings: [],
  };
}

function probe(path: string, scheme: "HTTP" | "HTTPS", timing: Record<string, number>): unknown {
  return { httpGet: { path, port: PORT_NAME, scheme }, ...timing, timeoutSeconds: 5, failureThreshold: 3 };
}

function resourcesOf(server: RegistryServer): unknown {
  const out: Record<string, unknown> = {};
  if (Object.keys(server.resources.requests).length > 0) out.requests = { ...server.resources.requests };
  if (Object.keys(server.resources.limits).length > 0) out.limits = { ...server.resources.limits };
  return out;
}

function claim(server: RegistryServer, labels: Record<string, string>): KubeObject {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: server.name, namespace: server.namespace, labels: { ...labels } },
    spec: {
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: server.storage.size } },
      ...(server.storage.storageClass ? { storageClassName: server.storage.storageClass } : {}),
    },
  };
}

function selectorOf(labels: Record<string, string>): Record<string, string> {
  return {
    "app.kubernetes.io/instance": labels["app.kubernetes.io/instance"],
    "app.kubernetes.io/name": labels["app.kubernetes.io/name"],
  };
}

function deployment(
  server: RegistryServer,
  labels: Record<string, string>,
  container: unknown,
  volumes: unknown[],
  config: string,
): KubeObject {
  const hash = crypto.createHash("sha256").update(config).digest("hex");
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: server.name, namespace: server.namespace, labels: { ...labels } },
    spec: {
      replicas: 1,
      strategy: { type: "Recreate" },
      selector: { matchLabels: selectorOf(labels) },
      template: {
        metadata: { labels: { ...labels }, annotations: { [CONFIG_HASH_ANNOTATION]: hash } },
        spec: { containers: [container], volumes },
      },
    },
  };
}

function service(server: RegistryServer, labels: Record<string, string>): KubeObject {
  const nodePort = server.service.type === ServiceType.NodePort ? { nodePort: server.service.nodePort } : {};
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: server.name, namespace: server.namespace, labels: { ...labels } },
    spec: {
      type: server.service.type,
      selector: selectorOf(labels),
      ports: [
        { name: PORT_NAME, port: server.service.port, targetPort: PORT_NAME, protocol: "TCP", ...nodePort },
      ],
    },
  };
}
