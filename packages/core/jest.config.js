module.exports = require('../../jest.preset.js')({
  coverageThreshold: { global: { lines: 90 } },
});
