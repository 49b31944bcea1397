/** The benchmark's declaration: `n` registries, each with a path mirror, as a regional-mirror setup has. */
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
