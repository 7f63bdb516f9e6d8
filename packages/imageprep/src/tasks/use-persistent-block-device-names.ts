/** @module tasks/use-persistent-block-device-names — replaces /dev/sdXN in fstab and boot configs with UUID=…. */
import { editKernelCommandLines, GRUB1_CONFIGS } from "../boot-config.ts";
import type { Inspection } from "../inspect.ts";
import { outcome, prepareTask } from "./types.ts";

const NON_PERSISTENT = /^\/dev\/[hsv]d([a-z])(\d*)$/;
const ROOT_ARG = /\broot=\/dev\/[hsv]d[a-z]\d*(?=\s|$|")/g;

/** The UUID of what `/dev/sdaN` (or hda/vda) names on this disk; undefined for other disks or no filesystem. */
function uuidOf(inspection: Inspection, device: string): string | undefined {
  const m = NON_PERSISTENT.exec(device);
  if (m?.[1] !== "a" || !m[2]) return undefined;
  return inspection.partitions.find((p) => p.number === Number(m[2]))?.filesystem.uuid;
}

/** Rewrites fstab: a known device becomes UUID=…, an unknown one is commented out (as snf-image-creator does). */
export function persistentFstab(fstab: string, inspection: Inspection): { text: string; changes: string[] } {
  const changes: string[] = [];
  const lines = fstab.split("\n").map((line) => {
    const content = (line.split("#")[0] ?? "").trim();
    if (!content) return line;
    const dev = content.split(/\s+/)[0] as string;
    if (!NON_PERSISTENT.test(dev)) return line;
    const uuid = uuidOf(inspection, dev);
    if (uuid) {
      changes.push(`${dev} → UUID=${uuid}`);
      return line.replace(dev, `UUID=${uuid}`);
    }
    changes.push(`commented out ${dev} (not on this disk)`);
    return `#${line}`;
  });
  return { text: lines.join("\n"), changes };
}

export const usePersistentBlockDeviceNames = prepareTask({
  name: "use-persistent-block-device-names",
  description: "Replace non-persistent device names (/dev/sda1) in fstab and boot loaders with UUIDs",
  enabledByDefault: true,
  async run({ fs, inspection }) {
    const changes: string[] = [];
    const fstab = await fs.readText("/etc/fstab");
    if (fstab !== undefined) {
      const r = persistentFstab(fstab, inspection);
      if (r.text !== fstab) {
        await fs.writeFile("/etc/fstab", r.text);
        changes.push(`/etc/fstab: ${r.changes.join(", ")}`);
      }
    }
    const rootUuid = inspection.root?.filesystem.uuid;
    if (rootUuid) {
      const root = `root=UUID=${rootUuid}`;
      for (const f of await editKernelCommandLines(fs, (line) => line.replace(ROOT_ARG, root)))
        changes.push(`${f}: ${root}`);
      for (const path of GRUB1_CONFIGS) {
        const text = await fs.readText(path);
        if (text === undefined) continue;
        const next = text.replace(/^(\s*kernel\s+.*)$/gm, (line) => line.replace(ROOT_ARG, root));
        if (next !== text) {
          await fs.writeFile(path, next);
          changes.push(`${path}: ${root}`);
        }
        break;
      }
    }
    return outcome(changes, "no non-persistent device names found");
  },
});
