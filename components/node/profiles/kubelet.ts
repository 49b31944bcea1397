/**
 * kubelet's node-level credentials (`config.json`, `.dockerconfigjson`-shaped, read on every pull).
 *
 * @module
 */
import { renderDockerConfigJson } from "../../render/dockerConfigJson";
import { ProfileDefinition, setting } from "./types";

/** The kubelet profile. */
export const kubelet: ProfileDefinition<"kubelet"> = {
  kind: "kubelet",
  options: {
    configJson: { type: "path", default: "/var/lib/kubelet/config.json" },
  },
  plan(model, profile, sink) {
    const json = renderDockerConfigJson(model, { mirrors: true });
    if (json === undefined) return;
    sink.add({
      kind: "file",
      path: setting(kubelet, profile, "configJson"),
      mode: 0o600,
      secret: true,
      content: json,
    });
  },
};
