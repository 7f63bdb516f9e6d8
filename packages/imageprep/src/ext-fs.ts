/** @module ext-fs — where the debugfs seam used to live; kept so imports of it keep working. */
export type {
  DirEntry,
  EntryType,
  ExtFs,
  ExtStat,
  GuestFs,
  Ownership,
  WalkEntry,
} from "./guest-fs/contract.ts";
export { normalizeGuestPath } from "./guest-fs/contract.ts";
export { openExtFs, withExtFs } from "./guest-fs/debugfs/debugfs-fs.ts";
