export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
export const TiB = 1024 * GiB;

/** S3 multipart limits (AWS documentation, "Amazon S3 multipart upload limits"). */
export const S3_LIMITS = {
  minPartSize: 5 * MiB,
  maxPartSize: 5 * GiB,
  maxParts: 10_000,
  /** Portable default; AWS allows more today, so it is a config key, not a constant. */
  defaultMaxObjectSize: 5 * TiB,
} as const;
