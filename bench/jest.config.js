// Unit tests only (parsing, statistics, the results page); the benchmark itself is `pnpm bench`.
module.exports = require('../jest.preset.js')();
