/**
 * An air-gapped k3s cluster: every registry is pulled through one internal mirror (each under its own path, as a
 * Harbor proxy project or zot sync layout serves them), and `fallback: false` forbids the upstream. k3s can only
 * honour that when its agents run with --disable-default-registry-endpoint (k3s >= v1.26.13), hence
 * `disableDefaultEndpoint`. Each agent probes the mirror first: a mirror that does not answer is never configured.
 */
import * as pulumi from "@pulumi/pulumi";
import { RegistrySetup, Registry } from "@registry-setup/pulumi-registries";
import { readableFiles } from "@registry-setup/pulumi-registries/program";

const config = new pulumi.Config();
const privateKey = config.requireSecret("sshPrivateKey");
const hosts = config.requireObject<string[]>("nodes");
const hostKeys = config.requireObject<string[]>("nodeHostKeys");
const mirror = config.require("mirror").replace(/\/+$/, "");
const ca = config.get("mirrorCa") || undefined;
const names = config.getObject<string[]>("registries") ?? [
  "docker.io",
  "registry.k8s.io",
  "gcr.io",
  "quay.io",
  "ghcr.io",
];

const registries: Record<string, Registry> = {};
for (const name of names) {
  registries[name] = {
    mirrors: [{ endpoint: `${mirror}/v2/${name}`, overridePath: true, ...(ca ? { tls: { ca } } : {}) }],
    fallback: false,
  };
}

const setup = new RegistrySetup("edge", {
  registries,
  nodes: hosts.map((host, i) => ({
    name: `agent${i + 1}`,
    connection: { host, user: "root", privateKey, hostKey: hostKeys[i] },
    profiles: [{ kind: "k3s", role: "agent", disableDefaultEndpoint: true }],
  })),
  // registries.yaml is read at start-up: every change restarts k3s-agent, two agents at a time.
  maxUnavailable: 2,
  probeMirrors: true,
});

/** Per node and path, what the setup manages there. */
export const files = readableFiles(setup.files);
/** What each agent's last apply did. */
export const summaries = setup.summaries;
