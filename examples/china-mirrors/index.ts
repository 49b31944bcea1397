/**
 * Pulling registry.k8s.io, gcr.io and Docker Hub images through regional mirrors (the "pull gcr and k8s images"
 * guides, as code). A mirror whose URL has a path (registry.aliyuncs.com/v2/google_containers) serves the registry's
 * repositories under that namespace: `overridePath` makes containerd use the path as the API root. Every registry
 * still falls back to its upstream when the mirror fails.
 */
import * as pulumi from "@pulumi/pulumi";
import { RegistrySetup, Mirror, ProfileKind } from "@registry-setup/pulumi-registries";
import { readableFiles } from "@registry-setup/pulumi-registries/program";

const config = new pulumi.Config();
const privateKey = config.requireSecret("sshPrivateKey");
const hosts = config.requireObject<string[]>("nodes");
const hostKeys = config.requireObject<string[]>("nodeHostKeys");
const kind = (config.get("runtime") || "containerd") as ProfileKind;

/** A mirror; a URL with a path is the mirror's API root. */
const mirror = (endpoint: string): Mirror => ({
  endpoint,
  overridePath: new URL(endpoint).pathname.length > 1,
});

const setup = new RegistrySetup("regional", {
  registries: {
    "registry.k8s.io": {
      mirrors: [
        mirror(config.get("registryK8sMirror") || "https://registry.aliyuncs.com/v2/google_containers"),
      ],
    },
    "gcr.io": { mirrors: [mirror(config.get("gcrMirror") || "https://gcr.lank8s.cn")] },
    "docker.io": { mirrors: [mirror(config.require("dockerHubMirror"))] },
  },
  nodes: hosts.map((host, i) => ({
    name: `node${i + 1}`,
    connection: { host, user: "root", privateKey, hostKey: hostKeys[i] },
    profiles: [{ kind }],
  })),
});

/** Per node and path, what the setup manages there. */
export const files = readableFiles(setup.files);
/** What each node's last apply did. */
export const summaries = setup.summaries;
/** What a node's format could not express. */
export const warnings = setup.warnings;
