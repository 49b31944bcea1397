/** @type {import('jest').Config} */
const common = {
  preset: "ts-jest",
  testEnvironment: "node",
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json" }] },
};

module.exports = {
  projects: [
    {
      ...common,
      displayName: "unit",
      testMatch: ["<rootDir>/test/**/*.test.ts"],
      testPathIgnorePatterns: ["<rootDir>/test/rig/", "/node_modules/"],
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
