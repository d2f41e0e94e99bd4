// Integration tests here need real loop-mounted Btrfs only (tools/testenv's withLoopBtrfs),
// not the S3 gateway that the preset's `integration` option starts in global setup.
module.exports = {
  ...require('../../jest.preset.js')(),
  // Real Btrfs: seconds, not milliseconds.
  testTimeout: 120_000,
};
