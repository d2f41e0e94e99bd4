/**
 * Test doubles; not part of the supported API. Scripted stand-ins for btrfs-progs and the
 * filesystem probe, for other packages' unit tests (a Btrfs built over them answers without
 * a real Btrfs): they may change with any release, and no shipped path uses them.
 */
export { FakeProcess, FakeRunner, fakeDirectories, errnoError } from './__fakes__/fake-runner';
