import { toJsonSchema } from '@valibot/to-json-schema';
import { ManifestSchema, ManifestV1Schema, PointerSchema } from './schema';

/**
 * JSON Schema for other languages' readers, generated from the valibot schemas.
 * Validation actions JSON Schema cannot express (ISO timestamps) are dropped;
 * the format document states them in prose.
 */
export function formatJsonSchemas(): Record<string, unknown> {
  const options = { errorMode: 'ignore' } as const;
  return {
    'manifest.v1.schema.json': {
      $id: 'btrfs-to-s3/manifest/v1',
      title: 'btrfs-to-s3 manifest, version 1',
      ...toJsonSchema(ManifestV1Schema, options),
    },
    'manifest.v2.schema.json': {
      $id: 'btrfs-to-s3/manifest/v2',
      title: 'btrfs-to-s3 manifest, version 2',
      ...toJsonSchema(ManifestSchema, options),
    },
    'current.v1.schema.json': {
      $id: 'btrfs-to-s3/current/v1',
      title: 'btrfs-to-s3 current.json pointer, version 1',
      ...toJsonSchema(PointerSchema, options),
    },
  };
}
