/**
 * A MicroK8s VM for development (seed: MicroK8s "registry" docs) — the by-hand steps this replaces:
 *   - on the VM: mkdir certs.d/<vm>:32000 and write an http hosts.toml so that pods can pull what you push;
 *   - on the VM: point docker.io at a local mirror (Docker Hub rate limits);
 *   - on the build host: add "<vm>:32000" to insecure-registries in /etc/docker/daemon.json, reload Docker.
 */
import * as pulumi from "@pulumi/pulumi";
import { ClusterRegistries } from "../../components";

const config = new pulumi.Config();
const vm = config.require("vmHost"); // e.g. 10.141.241.175
const privateKey = config.requireSecret("sshPrivateKey");
const mirror = config.get("dockerHubMirror") ?? `http://${vm}:5000`;

const setup = new ClusterRegistries("dev", {
  registries: {
    // The registry addon (microk8s enable registry) as the build host and other nodes reach it.
    [`${vm}:32000`]: { plainHttp: true },
    "docker.io": { mirrors: [{ endpoint: mirror }] },
  },
  nodes: [
    {
      name: "vm",
      connection: { host: vm, user: "ubuntu", privateKey, hostKey: config.get("vmHostKey") },
      sudo: true,
      // hosts.toml only: read on every pull, so no MicroK8s restart, ever.
      profiles: [{ kind: "microk8s", credentials: "hosts" }],
    },
    {
      name: "workstation",
      connection: { host: config.require("buildHost"), user: config.get("buildUser") ?? "root", privateKey },
      sudo: (config.get("buildUser") ?? "root") !== "root",
      profiles: [{ kind: "docker" }],
    },
  ],
});

export const summaries = setup.summaries;
export const warnings = setup.warnings;
