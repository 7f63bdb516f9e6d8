/** @module tasks/first-boot-grow-root-filesystem — at first boot, the root (its LVM volume, then its filesystem) fills the disk it was deployed on. */
import { prepareTask } from "./types.ts";

const DESCRIPTION =
  "At first boot: grow the root filesystem (and its LVM physical volume and logical volume) into the space the deployment gave its partition";

/**
 * The step's shell lines. snf-image grows the last partition of every disk it deploys but resizes
 * only an ext filesystem on it: an XFS or btrfs root, or any root in LVM, would keep the size it
 * was shrunk to (8 MiB free: too little for a package upgrade). `findmnt` names the root's source
 * (`/dev/vda2[/@]` on btrfs: the subvolume is cut off); a volume's physical volumes grow first.
 */
export const GROW_ROOT_SCRIPT = `src=$(findmnt -n -o SOURCE /) || return 1
src=\${src%%\\[*}
fstype=$(findmnt -n -o FSTYPE /)
if command -v lvs >/dev/null 2>&1 && lvs "$src" >/dev/null 2>&1; then
  for pv in $(lvs --noheadings -o devices "$src" | tr ',' ' ' | sed 's/([0-9]*)//g'); do
    pvresize "$pv" || return 1
  done
  vg=$(lvs --noheadings -o vg_name "$src" | tr -d ' ')
  free=$(vgs --noheadings --units b --nosuffix -o vg_free "$vg" | tr -d ' ')
  if [ "\${free:-0}" -gt 0 ]; then lvextend -l +100%FREE "$src" || return 1; fi
fi
case "$fstype" in
  ext2|ext3|ext4) resize2fs "$src" || return 1 ;;
  xfs) xfs_growfs / || return 1 ;;
  btrfs) btrfs filesystem resize max / || return 1 ;;
  *) echo "the root filesystem is $fstype: not grown" ;;
esac
df -h /`;

export const firstBootGrowRootFilesystem = prepareTask({
  name: "first-boot-grow-root-filesystem",
  description: DESCRIPTION,
  enabledByDefault: true,
  async run({ inspection, firstBoot }) {
    const root = inspection.root;
    const type = root?.filesystem.type;
    if (!root || (!root.lvm && type !== "xfs" && type !== "btrfs"))
      return {
        changes: [],
        skipped: "the root is an ext filesystem on a partition: the deployment grows it (snf-image)",
      };
    firstBoot.push({
      name: "first-boot-grow-root-filesystem",
      description: DESCRIPTION,
      script: GROW_ROOT_SCRIPT,
    });
    const what = root.lvm ? `LVM volume ${root.lvm.vg}/${root.lvm.lv} and its ${type}` : type;
    return { changes: [`queued: grow the root (${what}) to fill its partition`] };
  },
});
