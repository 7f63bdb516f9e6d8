/** @module @icaas/imageprep/testing — builds test disk images and reads them back, for this and other packages' tests. */
export {
  type BuiltDisk,
  type BuiltPartition,
  buildDisk,
  type DiskSpec,
  type PartitionSpec,
  type TestFs,
} from "./build-disk.ts";
export { buildFamilyDisk, type FamilyDisk } from "./build-family-disk.ts";
export { buildLvmTestDisk, type LvmTestDisk, type LvmTestDiskOptions } from "./build-lvm-test-disk.ts";
export {
  buildTestDisk,
  copyFixtureTree,
  FIXTURES_DIR,
  type TestDisk,
  type TestDiskOptions,
} from "./build-test-disk.ts";
export { fileContains, type GuestStat, guestCat, guestLs, guestStat } from "./guest.ts";
export { type GuestTree, type TreeEntry, writeTree } from "./guest-tree.ts";
export {
  assertExtClean,
  assertTableClean,
  checkFilesystem,
  leftovers,
  type ReadBackPartition,
  withReadOnlyMounts,
} from "./read-back.ts";
export { tempFiles } from "./temp-files.ts";
export { assertNoSecretLeft, DEBIAN_FIXTURE_METADATA, verifyPreparedDebian } from "./verify-prepared.ts";
