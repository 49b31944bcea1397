/**
 * A three-node kubeadm cluster (containerd) and a company registry with a private CA that needs credentials:
 * the CA goes next to hosts.toml, the credentials into containerd's CRI auth block (restarts roll one node at a
 * time) and into kubelet's node-level config.json. Secrets come from secret config and stay secret.
 */
import * as pulumi from "@pulumi/pulumi";
import { ClusterRegistries } from "../../components";

const config = new pulumi.Config();
const registry = config.require("registry"); // e.g. registry.corp.example:5443
const privateKey = config.requireSecret("sshPrivateKey");
const hosts = config.requireObject<string[]>("nodes");

const setup = new ClusterRegistries("prod", {
  registries: {
    [registry]: {
      tls: { ca: config.require("registryCa") },
      auth: { username: config.require("registryUser"), password: config.requireSecret("registryPassword") },
    },
  },
  nodes: hosts.map((host, i) => ({
    name: `node${i + 1}`,
    connection: { host, user: "root", privateKey },
    profiles: [{ kind: "containerd" }, { kind: "kubelet" }],
  })),
  maxUnavailable: 1,
});

export const summaries = setup.summaries;
