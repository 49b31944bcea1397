/**
 * The schema helper itself: it accepts a good object and rejects broken ones, so a green builder test means
 * something.
 */
import { k8sSchemaErrors, knownKinds } from "../helpers/k8sSchema";

const deployment = () => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "registry", namespace: "container-registry", labels: { app: "registry" } },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: "registry" } },
    template: {
      metadata: { labels: { app: "registry" } },
      spec: {
        containers: [
          {
            name: "registry",
            image: "registry:2",
            ports: [{ name: "registry", containerPort: 5000 }],
            readinessProbe: { httpGet: { path: "/v2/", port: "registry" } },
            resources: { requests: { cpu: "50m", memory: "64Mi" } },
          },
        ],
      },
    },
  },
});

describe("k8sSchemaErrors", () => {
  test("a valid Deployment has no errors", () => {
    expect(k8sSchemaErrors(deployment())).toEqual([]);
  });

  test("knows the core and apps kinds", () => {
    expect(knownKinds()).toEqual(
      expect.arrayContaining([
        "apps/v1/Deployment",
        "v1/ConfigMap",
        "v1/Namespace",
        "v1/PersistentVolumeClaim",
        "v1/Secret",
        "v1/Service",
        "v1/ServiceAccount",
      ]),
    );
  });

  test.each([
    [
      "wrong type (containerPort as a string)",
      (d: ReturnType<typeof deployment>) => {
        (d.spec.template.spec.containers[0].ports[0] as Record<string, unknown>).containerPort = "5000";
      },
      ["/spec/template/spec/containers/0/ports/0/containerPort must be integer"],
    ],
    [
      "missing required field (the container's name)",
      (d: ReturnType<typeof deployment>) => {
        delete (d.spec.template.spec.containers[0] as Partial<{ name: string }>).name;
      },
      ["/spec/template/spec/containers/0 must have required property name"],
    ],
    [
      "missing required field (spec.selector)",
      (d: ReturnType<typeof deployment>) => {
        delete (d.spec as Partial<{ selector: unknown }>).selector;
      },
      ["/spec must have required property selector"],
    ],
    [
      "unknown field (a typo)",
      (d: ReturnType<typeof deployment>) => {
        (d.spec.template.spec.containers[0] as Record<string, unknown>).readinesProbe = {};
      },
      ["/spec/template/spec/containers/0/readinesProbe is not a field of apps/v1 Deployment"],
    ],
    [
      "wrong enum value",
      (d: ReturnType<typeof deployment>) => {
        (d as Record<string, unknown>).apiVersion = "apps/v1";
        (d.spec as Record<string, unknown>).strategy = { type: "Rolling" };
      },
      ["/spec/strategy/type must be equal to one of the allowed values"],
    ],
  ])("rejects %s", (_name, breakIt, expected) => {
    const d = deployment();
    breakIt(d);
    expect(k8sSchemaErrors(d)).toEqual(expected);
  });

  test("an unknown kind has no schema", () => {
    expect(
      k8sSchemaErrors({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "x" } }),
    ).toEqual(['no schema for apiVersion "example.com/v1" kind "Widget"']);
  });
});
