module.exports = {
  ...require('../../jest.preset.js')({
    coverageThreshold: { global: { lines: 90 } },
  }),
  // The README's example imports the package by name, as a user would.
  moduleNameMapper: { '^@org/btrfs-s3-core$': '<rootDir>/src/index.ts' },
};
