import * as v from 'valibot';

/**
 * This package's version: what a manifest's `tool.version` records unless the caller
 * names its own (the CLI does). A static require of package.json, not a read relative
 * to __dirname at run time, so a bundle (the release) carries it inline.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const TOOL_VERSION = v.parse(v.object({ version: v.string() }), require('../package.json')).version;
