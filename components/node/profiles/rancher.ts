/**
 * k3s and RKE2: `registries.yaml`, read at start-up only (every change restarts the service).
 *
 * @module
 */
import { renderRegistriesYaml } from "../../render/registriesYaml";
import { Effect } from "../entries";
import { NodeRole, ProfileDefinition, RuntimeProfile, secretMode, setting } from "./types";

function rancher<K extends "k3s" | "rke2">(kind: K): ProfileDefinition<K> {
  const unit = (p: RuntimeProfile): string => {
    const role = p.role ?? NodeRole.Server;
    return kind === "k3s" ? (role === "server" ? "k3s" : "k3s-agent") : `rke2-${role}`;
  };
  const def: ProfileDefinition<K> = {
    kind,
    options: {
      role: { type: "enum", values: Object.values(NodeRole), default: NodeRole.Server },
      disableDefaultEndpoint: { type: "boolean", default: false },
      restart: { type: "argv", default: (p: RuntimeProfile) => ["systemctl", "restart", unit(p)] },
    },
    plan(model, profile, sink) {
      const dir = `/etc/rancher/${kind}`;
      const out = renderRegistriesYaml(model, {
        certsDir: `${dir}/registry-certs`,
        disableDefaultEndpoint: setting(def, profile, "disableDefaultEndpoint"),
      });
      sink.warn(out.warnings);
      const effect: Effect = {
        service: sink.service({
          name: unit(profile).replace(/-/g, "_"),
          restart: setting(def, profile, "restart"),
        }),
        action: "restart",
      };
      sink.add({
        kind: "file",
        path: `${dir}/registries.yaml`,
        mode: secretMode(out.secret),
        secret: out.secret,
        content: out.content,
        effect,
      });
      sink.addFiles(out.files, effect);
    },
  };
  return def;
}

/** The k3s profile. */
export const k3s = rancher("k3s");
/** The RKE2 profile. */
export const rke2 = rancher("rke2");
