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
      maxWorkers: 1,
    },
  ],
  testTimeout: 60000,
};
