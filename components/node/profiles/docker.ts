/**
 * A Docker engine (build hosts): our values merged into `daemon.json`'s `insecure-registries` and
 * `registry-mirrors` (every other byte stays), and `certs.d` files; a reload makes dockerd re-read them.
 *
 * @module
 */
import { dockerDaemonEntries } from "../../render/daemonJson";
import { ProfileDefinition, setting } from "./types";

/** The Docker profile. */
export const docker: ProfileDefinition<"docker"> = {
  kind: "docker",
  options: {
    daemonJson: { type: "path", default: "/etc/docker/daemon.json" },
    certsDir: { type: "path", default: "/etc/docker/certs.d" },
    reload: { type: "argv", default: ["systemctl", "reload", "docker"] },
  },
  plan(model, profile, sink) {
    const out = dockerDaemonEntries(model, { certsDir: setting(docker, profile, "certsDir") });
    sink.warn(out.warnings);
    const service = sink.service({ name: "docker", reload: setting(docker, profile, "reload") });
    sink.add({
      kind: "json-merge",
      path: setting(docker, profile, "daemonJson"),
      mode: 0o644,
      secret: false,
      values: [
        ...out.insecureRegistries.map((value) => ({ key: "insecure-registries" as const, value })),
        ...out.registryMirrors.map((value) => ({ key: "registry-mirrors" as const, value })),
      ],
      effect: { service, action: "reload" },
      check: { kind: "docker-daemon-json", binary: "dockerd" },
    });
    // dockerd reads certs.d on every pull.
    sink.addFiles(out.files);
  },
};
