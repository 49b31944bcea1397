/**
 * Mirrors for registry.k8s.io, gcr.io and Docker Hub (seed: "pulling gcr and k8s images from China"), on k3s
 * agents. `fallback: false` means no fallback to the upstream at all: the renderer refuses formats that cannot
 * honour that (k3s needs --disable-default-registry-endpoint, and says so).
 */
import * as pulumi from "@pulumi/pulumi";
import { ClusterRegistries, Registry } from "../../components";

const config = new pulumi.Config();
const privateKey = config.requireSecret("sshPrivateKey");
const hosts = config.requireObject<string[]>("nodes");
const airGapped = config.getBoolean("airGapped") ?? false;

const registries: Record<string, Registry> = {
  "registry.k8s.io": {
    mirrors: [{ endpoint: "https://registry.aliyuncs.com/v2/google_containers", overridePath: true }],
    ...(airGapped ? { fallback: false } : {}),
  },
  "gcr.io": { mirrors: [{ endpoint: "https://gcr.lank8s.cn" }] },
  "docker.io": {
    mirrors: [{ endpoint: config.get("dockerHubMirror") ?? "https://mirror.example.internal" }],
  },
};

const setup = new ClusterRegistries("edge", {
  registries,
  nodes: hosts.map((host, i) => ({
    name: `agent${i + 1}`,
    connection: { host, user: "root", privateKey },
    // With airGapped the agents must run with --disable-default-registry-endpoint (k3s ≥1.26.13).
    profiles: [{ kind: "k3s", role: "agent", disableDefaultEndpoint: airGapped }],
  })),
  // registries.yaml is read at start-up: every change restarts k3s-agent, two nodes at a time.
  maxUnavailable: 2,
  probeMirrors: true,
});

export const summaries = setup.summaries;
export const warnings = setup.warnings;
