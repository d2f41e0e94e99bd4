// Shared jest settings for every workspace package: TypeScript through ts-jest,
// unit tests beside the code (src/**/*.test.ts), integration tests in test/integration.
// Integration suites get the real gateway from the global setup (tools/testenv).
const path = require('node:path');

/** @param {{ integration?: boolean, coverageThreshold?: object }} [options] */
module.exports = function jestConfig(options = {}) {
  const config = {
    testEnvironment: 'node',
    roots: ['<rootDir>/src', '<rootDir>/test'].filter((dir) => require('node:fs').existsSync(dir.replace('<rootDir>', process.cwd()))),
    testMatch: ['**/*.test.ts'],
    transform: {
      '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json', diagnostics: false }],
      '^.+\\.js$': path.join(__dirname, 'jest.esm-transform.js'),
    },
    // node_modules stay untransformed but for the ESM-only libraries age encryption needs.
    transformIgnorePatterns: ['/node_modules/(?!(\\.pnpm/)?(age-encryption|@noble|@scure))'],
    collectCoverageFrom: ['src/**/*.ts', '!src/**/*.test.ts'],
    coverageReporters: ['text-summary', 'lcov'],
    // Tests that spawn processes or touch disks run beside other suites in CI; a
    // generous limit keeps a loaded machine from failing them (it is not a speed test).
    testTimeout: 60_000,
  };
  if (options.coverageThreshold) config.coverageThreshold = options.coverageThreshold;
  if (options.integration) {
    const testenv = path.dirname(require.resolve('@org/testenv/package.json', { paths: [process.cwd()] }));
    config.globalSetup = path.join(testenv, 'dist/global-setup.js');
    config.globalTeardown = path.join(testenv, 'dist/global-teardown.js');
    // Real Btrfs and a real gateway: seconds, not milliseconds.
    config.testTimeout = 180_000;
  }
  return config;
};
