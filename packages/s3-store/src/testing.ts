/**
 * Test doubles; not part of the supported API. In-memory S3 fakes at the SDK boundary for
 * other packages' unit tests: they may change with any release, and no shipped path uses them.
 * packages/s3-store/test/integration/conformance.test.ts runs the same cases against
 * FakeS3Bucket and the real gateway, so where the two agree is checked, not assumed.
 */
export { FakeS3Bucket } from './__fakes__/fake-bucket';
export { plantBackup, plantPointer } from './__fakes__/plant-backup';
export type { PlantedBackup, PlantOptions } from './__fakes__/plant-backup';
export type { BucketClient, BucketCommand, BucketOutput, FakeBucketSettings } from './__fakes__/fake-bucket';
export { FakeS3 } from './__fakes__/fake-s3';
export type { FakeCommand, FakeHook, FakeOutput, FakeUpload } from './__fakes__/fake-s3';
export { FakeObjectS3, piecesOf } from './__fakes__/fake-s3-objects';
export type { DeleteKeyError, ObjectCommand, ObjectHook, ObjectOutput } from './__fakes__/fake-s3-objects';
export { s3Error } from './__fakes__/fake-store';
export type { FakeObject, FakeObjects, ObjectBytes } from './__fakes__/fake-store';
