/**
 * node:crypto, loaded when first used: loading it costs milliseconds at start-up, which
 * a CLI that only prints `--help` need not pay.
 */
export const crypto = () => process.getBuiltinModule('node:crypto');
