/**
 * Program build cost under Pulumi mocks, in plain JavaScript so that no TypeScript loader (and its source-map
 * support, which makes every stack trace the SDK captures costly) distorts it. Run by `npm run bench`:
 *
 *   node bench/measure.js ours N R    a ClusterRegistries of N nodes × R registries from the compiled library (dist/)
 *   node bench/measure.js floor N     the SDK's own cost: N bare components, each with two bare remote.Commands
 *
 * Prints one JSON line: { ms, resources, heapMiB }.
 */
"use strict";
const pulumi = require("@pulumi/pulumi");

function declaration(n) {
  const regs = {};
  for (let i = 0; i < n; i++) {
    regs[`r${i}.bench.example`] = {
      server: "http://127.0.0.1:1",
      mirrors: [{ endpoint: `http://10.123.0.1:5000/v2/a${i}`, overridePath: true }],
    };
  }
  return regs;
}

async function main() {
  const [mode, nodes, registries] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4] || 20)];
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
  const t0 = process.hrtime.bigint();
  const outs = [];
  if (mode === "ours") {
    const { ClusterRegistries } = require("../dist/components");
    const cluster = new ClusterRegistries("bench", {
      registries: declaration(registries),
      nodes: Array.from({ length: nodes }, (_, i) => ({
        name: `n${i}`,
        connection: {
          host: `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`,
          user: "root",
          privateKey: "k",
          hostKey: "ssh-ed25519 AAAA",
        },
        profiles: [{ kind: "containerd" }],
      })),
      maxUnavailable: 10,
    });
    outs.push(cluster.files, cluster.summaries);
  } else {
    const command = require("@pulumi/command");
    for (let i = 0; i < nodes; i++) {
      const c = new pulumi.ComponentResource("bench:index:Node", `n${i}`, {}, {});
      for (const part of ["files", "services"]) {
        const r = new command.remote.Command(
          `n${i}-${part}`,
          { connection: { host: "h", privateKey: "k" }, create: "x", stdin: "y".repeat(8000) },
          { parent: c },
        );
        outs.push(r.stdout);
      }
    }
  }
  await new Promise((resolve) => pulumi.all(outs).apply(resolve));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(JSON.stringify({ ms, resources, heapMiB: process.memoryUsage().heapUsed / 2 ** 20 }));
}

main();
