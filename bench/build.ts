/**
 * Program build cost under Pulumi mocks: a ClusterRegistries of N nodes × R registries, from construction until
 * every resource is registered and every output resolved. Used by `npm run bench`; runs on its own too:
 * `npx ts-node --transpile-only bench/build.ts 1000 20`.
 */
import * as pulumi from "@pulumi/pulumi";

/** Registries with a path mirror each, as a regional-mirror setup has. */
export function benchDeclaration(
  n: number,
  variant = "a",
): Record<string, { server: string; mirrors: { endpoint: string; overridePath: boolean }[] }> {
  const regs: Record<string, { server: string; mirrors: { endpoint: string; overridePath: boolean }[] }> = {};
  for (let i = 0; i < n; i++) {
    regs[`r${i}.bench.example`] = {
      server: "http://127.0.0.1:1",
      mirrors: [{ endpoint: `http://10.123.0.1:5000/v2/${variant}${i}`, overridePath: true }],
    };
  }
  return regs;
}

/** Build the program under mocks; returns the wall time in ms, the resources registered and the heap used. */
export async function measureBuild(
  nodes: number,
  registries: number,
): Promise<{ ms: number; resources: number; heapMiB: number }> {
  let resources = 0;
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        resources++;
        return { id: `${args.name}-id`, state: { ...args.inputs, stdout: "", stderr: "" } };
      },
      call: (args) => args.inputs,
    },
    "bench",
    "bench",
    false,
  );
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ClusterRegistries } = require("../components") as typeof import("../components");
  const t0 = process.hrtime.bigint();
  const cluster = new ClusterRegistries("bench", {
    registries: benchDeclaration(registries),
    nodes: Array.from({ length: nodes }, (_, i) => ({
      name: `n${i}`,
      connection: {
        host: `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`,
        user: "root",
        privateKey: "k",
        hostKey: "ssh-ed25519 AAAA",
      },
      profiles: [{ kind: "containerd" as const }],
    })),
    maxUnavailable: 10,
  });
  await new Promise((resolve) => cluster.files.apply(resolve));
  await new Promise((resolve) => cluster.summaries.apply(resolve));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { ms, resources, heapMiB: process.memoryUsage().heapUsed / 2 ** 20 };
}

if (require.main === module) {
  const [nodes, regs] = process.argv.slice(2).map(Number);
  measureBuild(nodes || 100, regs || 20).then((r) => console.log(JSON.stringify(r)));
}
