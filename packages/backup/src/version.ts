import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as v from 'valibot';

/** This package's version: what a manifest's `tool.version` records unless the caller names its own (the CLI does). */
export const TOOL_VERSION = v.parse(
  v.object({ version: v.string() }),
  JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')),
).version;
