/** @module edit-guest — opens the root of whatever guest a disk holds (ext, XFS, btrfs, in LVM or not) for editing, as a deployment's personalisation needs. */
import { ImagePrepError } from "./errors.ts";
import type { GuestFs } from "./guest-fs/contract.ts";
import { withGuestFs } from "./guest-fs/open.ts";
import { guestRoot, type Inspection, inspectImage, mountSources } from "./inspect.ts";

/**
 * Inspects `image`, then runs `fn` on its root filesystem read-write with the backend the root needs
 * (debugfs for an ext root, a loop mount for XFS, btrfs and roots whose fstab mounts other partitions;
 * every mount and loop device released before this returns). Throws `unsupported_image` when no single
 * root is found.
 *
 * @example
 * await editGuest("disk.raw", async (fs, inspection) => fs.writeFile("/etc/motd", "hi\n"));
 */
export async function editGuest<T>(
  image: string,
  fn: (fs: GuestFs, inspection: Inspection) => Promise<T>,
  options: { signal?: AbortSignal; log?: (line: string) => void } = {},
): Promise<T> {
  const inspection = await inspectImage(image, { signal: options.signal });
  if (!inspection.root) {
    throw new ImagePrepError("unsupported_image", `no root filesystem to edit: ${inspection.unsupported}`);
  }
  return withGuestFs(image, guestRoot(inspection), mountSources(inspection), options, (fs) =>
    fn(fs, inspection),
  );
}
