/**
 * A MicroK8s cluster's whole registry setup as one RegistrySetup:
 *   - the registry addon on the first node (`microk8s enable registry --size …`), trusted by every node;
 *   - Docker Hub through a company mirror with a private CA;
 *   - a company registry with a private CA and credentials (the CRI auth block on every node);
 *   - a pull Secret with those credentials in each team's namespace, used by the ServiceAccounts listed;
 *   - image tarballs side-loaded onto every node (an air-gapped first start, a hotfix image).
 */
import * as pulumi from "@pulumi/pulumi";
import { RegistrySetup } from "@registry-setup/pulumi-registries";
import { readableFiles } from "@registry-setup/pulumi-registries/program";

const config = new pulumi.Config();
const privateKey = config.requireSecret("sshPrivateKey");
const hosts = config.requireObject<string[]>("nodes");
const hostKeys = config.requireObject<string[]>("nodeHostKeys");
const registry = config.require("registry");
const mirror = config.get("dockerHubMirror") || undefined;

const setup = new RegistrySetup("cluster", {
  nodes: hosts.map((host, i) => ({
    name: `mk${i + 1}`,
    connection: { host, user: "root", privateKey, hostKey: hostKeys[i] },
    profiles: [{ kind: "microk8s" }],
  })),
  registries: {
    ...(mirror
      ? { "docker.io": { mirrors: [{ endpoint: mirror, tls: { ca: config.require("companyCa") } }] } }
      : {}),
    [registry]: {
      tls: { ca: config.require("companyCa") },
      auth: { username: config.require("registryUser"), password: config.requireSecret("registryPassword") },
    },
  },
  registryAddon: { size: config.get("registrySize") || "20Gi" },
  cluster: {
    pullSecrets: {
      namespaces: config.requireObject<string[]>("namespaces"),
      createNamespaces: true,
      // Each namespace's default ServiceAccount, and the ones listed.
      serviceAccounts: { names: ["default", ...(config.getObject<string[]>("serviceAccounts") ?? [])] },
    },
    // Paths relative to this project (Pulumi runs the program there).
    sideLoads: (config.getObject<string[]>("images") ?? []).map((path) => ({ path })),
  },
  maxUnavailable: config.getNumber("maxUnavailable") ?? 1,
});

/** Per node and path, what the setup manages there (credentials shown as "(secret: …)"). */
export const files = readableFiles(setup.files);
/** What each node's last apply did. */
export const summaries = setup.summaries;
/** What a node's format could not express. */
export const warnings = setup.warnings;
/** Where the registry addon answers: push there (`docker push <node>:32000/app`). */
export const endpoints = setup.endpoints;
/** The pull Secrets, as namespace/name. */
export const pullSecrets = setup.pullSecrets;
/** The images each node imported. */
export const sideLoaded = setup.sideLoaded;
