/**
 * CRI-O (and podman on the node): a `registries.conf.d` drop-in and `containers-certs.d` files.
 *
 * @module
 */
import { renderRegistriesConf } from "../../render/crio";
import { ProfileDefinition, setting } from "./types";

/** The CRI-O profile. */
export const crio: ProfileDefinition<"crio"> = {
  kind: "crio",
  options: {
    dropIn: { type: "path", default: "/etc/containers/registries.conf.d/50-pulumi-registries.conf" },
    certsDir: { type: "path", default: "/etc/containers/certs.d" },
    reload: { type: "argv", default: ["systemctl", "reload", "crio"] },
  },
  plan(model, profile, sink) {
    const out = renderRegistriesConf(model, { certsDir: setting(crio, profile, "certsDir") });
    sink.warn(out.warnings);
    const service = sink.service({ name: "crio", reload: setting(crio, profile, "reload") });
    sink.add({
      kind: "file",
      path: setting(crio, profile, "dropIn"),
      mode: 0o644,
      secret: false,
      content: out.content,
      effect: { service, action: "reload" },
    });
    // containers/image reads certs.d on every pull.
    sink.addFiles(out.files);
  },
};
