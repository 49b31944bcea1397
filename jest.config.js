/** @type {import('jest').Config} */
const common = {
  preset: "ts-jest",
  testEnvironment: "node",
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json" }] },
  // The examples import the package by name, as the templates users start from do.
  moduleNameMapper: {
    "^@registry-setup/pulumi-registries$": "<rootDir>/components/index.ts",
    "^@registry-setup/pulumi-registries/(.*)$": "<rootDir>/components/$1/index.ts",
  },
};

module.exports = {
  projects: [
    {
      ...common,
      displayName: "unit",
      testMatch: ["<rootDir>/test/**/*.test.ts"],
      testPathIgnorePatterns: ["<rootDir>/test/rig/", "<rootDir>/test/consumer/", "/node_modules/"],
    },
    {
      ...common,
      displayName: "consumer",
      // The packed tarball in fresh projects: needs the npm registry and a few minutes.
      testMatch: ["<rootDir>/test/consumer/**/*.test.ts"],
    },
    {
      ...common,
      displayName: "rig",
      testMatch: ["<rootDir>/test/rig/**/*.test.ts"],
      globalSetup: "<rootDir>/test/rig/globalSetup.ts",
      globalTeardown: "<rootDir>/test/rig/globalTeardown.ts",
      // The rig's three nodes are shared: its files must run one at a time (npm test passes --runInBand).
    },
  ],
  testTimeout: 60000,
};
