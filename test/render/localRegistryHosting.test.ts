import * as YAML from "yaml";
import { normalizeCluster } from "../../components/model/normalizeCluster";
import { renderLocalRegistryHosting } from "../../components/render/localRegistryHosting";
import { expectGolden } from "../helpers/golden";

describe("renderLocalRegistryHosting (KEP-1755 localRegistryHosting.v1)", () => {
  test("golden: MicroK8s-like NodePort registry", () => {
    const lrh = normalizeCluster({
      registry: {},
      localRegistryHosting: { help: "https://microk8s.io/docs/registry-built-in" },
    }).localRegistryHosting!;
    const out = renderLocalRegistryHosting(lrh);
    expectGolden("localRegistryHosting/microk8s.yaml", out);
    expect(YAML.parse(out)).toEqual({
      host: "localhost:32000",
      hostFromContainerRuntime: "localhost:32000",
      hostFromClusterNetwork: "registry.container-registry.svc:5000",
      help: "https://microk8s.io/docs/registry-built-in",
    });
    // The KEP's order of fields.
    expect(Object.keys(YAML.parse(out))).toEqual([
      "host",
      "hostFromContainerRuntime",
      "hostFromClusterNetwork",
      "help",
    ]);
  });

  test("golden: ClusterIP registry with explicit hosts, no help", () => {
    const lrh = normalizeCluster({
      registry: { service: { type: "ClusterIP" } },
      localRegistryHosting: { host: "registry.example.com:443", hostFromContainerRuntime: "10.0.0.5:32000" },
    }).localRegistryHosting!;
    const out = renderLocalRegistryHosting(lrh);
    expectGolden("localRegistryHosting/cluster-ip.yaml", out);
    expect(YAML.parse(out)).toEqual({
      host: "registry.example.com:443",
      hostFromContainerRuntime: "10.0.0.5:32000",
      hostFromClusterNetwork: "registry.container-registry.svc:5000",
    });
  });

  test("host:port values stay strings for YAML 1.1 readers (60-base numbers there)", () => {
    const out = renderLocalRegistryHosting({
      host: "1:30",
      hostFromContainerRuntime: "1:30",
      hostFromClusterNetwork: "1:30",
    });
    expect(YAML.parse(out, { version: "1.1" }).host).toBe("1:30");
  });
});
