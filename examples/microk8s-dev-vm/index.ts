/**
 * A MicroK8s VM for development (the MicroK8s "registry" docs, as code), one RegistrySetup:
 *   - on the VM: the registry addon (`microk8s enable registry --size …`), checked once enabled;
 *   - on every node: an http hosts.toml for <vm>:32000 so that pods can pull what you push to the addon;
 *   - on the VM: docker.io pulled through a mirror (Docker Hub rate limits);
 *   - on the build host: <vm>:32000 in insecure-registries of /etc/docker/daemon.json (merged), Docker reloaded.
 */
import * as pulumi from "@pulumi/pulumi";
import { ClusterNode, RegistrySetup } from "@registry-setup/pulumi-registries";
import { readableFiles } from "@registry-setup/pulumi-registries/program";

const config = new pulumi.Config();
const vm = config.require("vmHost");
const privateKey = config.requireSecret("sshPrivateKey");
const vmUser = config.get("vmUser") || "ubuntu";
const buildHost = config.get("buildHost") || undefined;
const buildUser = config.get("buildUser") || "root";

const nodes: ClusterNode[] = [
  {
    name: "vm",
    connection: { host: vm, user: vmUser, privateKey, hostKey: config.require("vmHostKey") },
    sudo: vmUser !== "root",
    // Everything in hosts.toml, which MicroK8s reads on every pull: no change ever restarts containerd.
    profiles: [{ kind: "microk8s", credentials: "hosts" }],
  },
];
if (buildHost) {
  nodes.push({
    name: "build",
    connection: {
      host: buildHost,
      user: buildUser,
      privateKey,
      hostKey: config.get("buildHostKey") || undefined,
    },
    sudo: buildUser !== "root",
    profiles: [{ kind: "docker" }],
  });
}

const setup = new RegistrySetup("dev", {
  // Every node trusts <vm>:32000 (plain HTTP) without declaring it: the addon's endpoint is added for them.
  registryAddon: { size: config.get("registrySize") || "20Gi" },
  registries: {
    "docker.io": { mirrors: [{ endpoint: config.get("dockerHubMirror") || `http://${vm}:5000` }] },
  },
  nodes,
});

/** Per node and path, what the setup manages there: a preview shows which lines of which file change. */
export const files = readableFiles(setup.files);
/** What each node's last apply did. */
export const summaries = setup.summaries;
/** What a node's format could not express. */
export const warnings = setup.warnings;
/** Where the registry addon answers: push there (`docker push <vm>:32000/app`). */
export const registry = setup.endpoints.apply((e) => e["registry-addon"]);
