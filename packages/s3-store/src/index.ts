/** S3 access for btrfs-to-s3: the one S3 client factory and object reads/writes with SSE and storage classes. */
export { createS3Client } from './client';
export type { S3ConnectionConfig, S3ClientTuning } from './client';
export { S3ObjectStore, S3StoreError } from './object-store';
export type { ObjectInfo, S3StoreConfig } from './object-store';
