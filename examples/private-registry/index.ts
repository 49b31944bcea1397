/**
 * A multi-node kubeadm cluster (containerd) and a company registry with a private CA that needs credentials: the CA
 * goes next to hosts.toml (no restart), the credentials into containerd's CRI auth block (a restart, one node at a
 * time) and into kubelet's node-level config.json. Secrets come from secret config and stay secret.
 */
import * as pulumi from "@pulumi/pulumi";
import { RegistrySetup } from "@registry-setup/pulumi-registries";
import { readableFiles } from "@registry-setup/pulumi-registries/program";

const config = new pulumi.Config();
const privateKey = config.requireSecret("sshPrivateKey");
const hosts = config.requireObject<string[]>("nodes");
const hostKeys = config.requireObject<string[]>("nodeHostKeys");

const setup = new RegistrySetup("prod", {
  registries: {
    [config.require("registry")]: {
      tls: { ca: config.require("registryCa") },
      auth: { username: config.require("registryUser"), password: config.requireSecret("registryPassword") },
    },
  },
  nodes: hosts.map((host, i) => ({
    name: `node${i + 1}`,
    connection: { host, user: "root", privateKey, hostKey: hostKeys[i] },
    profiles: [{ kind: "containerd" }, { kind: "kubelet" }],
  })),
  maxUnavailable: config.getNumber("maxUnavailable") ?? 1,
});

/** Per node and path, what the setup manages there (credentials shown as "(secret: …)"). */
export const files = readableFiles(setup.files);
/** What each node's last apply did. */
export const summaries = setup.summaries;
