import { toJsonSchema } from '@valibot/to-json-schema';
import * as v from 'valibot';
import { BackupResultSchema, PlanResultSchema, StatusResultSchema } from '@org/btrfs-s3-backup';
import { ListResultSchema, PruneResultSchema } from '@org/btrfs-s3-bucket';
import { RestorePlanSchema, RestoreResultSchema } from '@org/btrfs-s3-restore';
import { DoctorOutputSchema, DrillOutputSchema, VerifyOutputSchema } from './output-schemas';

/**
 * JSON Schema of the `--json` outputs, generated from the valibot schemas for
 * consumers in other languages (docs/schema/*-output.schema.json). Checks JSON Schema
 * cannot express (ISO timestamps) are dropped; docs/operations.md states them.
 */
export function outputJsonSchemas(): Record<string, unknown> {
  const options = { errorMode: 'ignore' } as const;
  const schema = (name: string, title: string, valibot: Parameters<typeof toJsonSchema>[0]) => ({
    $id: `btrfs-to-s3/${name}-output`,
    title,
    ...toJsonSchema(valibot, options),
  });
  return {
    'list-output.schema.json': schema('list', 'btrfs-to-s3 list --json', ListResultSchema),
    'status-output.schema.json': schema('status', 'btrfs-to-s3 status --json', StatusResultSchema),
    'verify-output.schema.json': schema(
      'verify',
      'btrfs-to-s3 verify --json (the report, or on failure the error with the report)',
      VerifyOutputSchema,
    ),
    'prune-output.schema.json': schema('prune', 'btrfs-to-s3 prune --json', PruneResultSchema),
    'backup-output.schema.json': schema('backup', 'btrfs-to-s3 backup --json', BackupResultSchema),
    'plan-output.schema.json': schema('plan', 'btrfs-to-s3 plan --json', PlanResultSchema),
    'restore-output.schema.json': schema(
      'restore',
      'btrfs-to-s3 restore --json (with --dry-run: the plan)',
      v.union([RestoreResultSchema, RestorePlanSchema]),
    ),
    'doctor-output.schema.json': schema(
      'doctor',
      'btrfs-to-s3 doctor --json (the report, or on failure the error with the report)',
      DoctorOutputSchema,
    ),
    'drill-output.schema.json': schema(
      'drill',
      'btrfs-to-s3 drill --json (the result, or on failure the error with the result)',
      DrillOutputSchema,
    ),
  };
}
