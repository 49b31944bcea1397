/**
 * No nodes to SSH into: kind clusters and Talos machines take their registry configuration as cluster config. The
 * same declaration renders kind's containerdConfigPatches, a Talos machine-config patch and the .dockerconfigjson
 * payload of a pull Secret, exported as stack outputs (secret where they hold credentials).
 */
import * as pulumi from "@pulumi/pulumi";
import {
  normalizeRegistries,
  renderDockerConfigJson,
  renderKindConfig,
  renderTalosRegistries,
} from "@registry-setup/pulumi-registries/render";

const config = new pulumi.Config();
const mirror = config.get("mirror") || "http://kind-registry:5000";
const local = config.get("localRegistry") || "localhost:5001";

const model = normalizeRegistries({
  "docker.io": { mirrors: [{ endpoint: mirror }] },
  [local]: { fallback: false, mirrors: [{ endpoint: "http://kind-registry:5000" }] },
});

// config_path mode: hosts.toml files mounted into every node (the legacy mirrors form cannot forbid a fallback).
const kind = renderKindConfig(model, { hostDir: "./registry-config" });
/** Paste into the kind Cluster config (`containerdConfigPatches:`). */
export const kindContainerdConfigPatches = kind.containerdConfigPatches;
/** Add to each kind node (`extraMounts:`): the directory below, mounted at /etc/containerd/certs.d. */
export const kindExtraMounts = kind.extraMounts;
/** Write these files under ./registry-config (paths relative to it). */
export const kindHostsFiles = kind.files.map((f) => ({ path: f.path, content: f.content }));
/** A Talos machine-config patch (`talosctl apply-config --config-patch`). */
export const talosMachineConfigPatch = renderTalosRegistries(model).machineConfigPatch;
/** The `.dockerconfigjson` of a pull Secret: none here (no credentials declared). */
export const dockerConfigJson = pulumi.secret(renderDockerConfigJson(model) ?? "");
