/** @module steps/inspect — what disk format the file is, read safely: header checks, then qemu-img under prlimit. */
import { open } from "node:fs/promises";
import { resolve } from "node:path";
import { lastLine, runCommand } from "../child.ts";
import { agentErrors } from "../errors.ts";
import type { DiskInfo } from "./disk-info.ts";
import { defineStep, fixedCost } from "./step.ts";

export interface InspectLimits {
  /** Address-space cap for qemu-img info (prlimit --as). Default 1 GiB, as oVirt uses. */
  memoryBytes: number;
  /** CPU-seconds cap for qemu-img info (prlimit --cpu). Default 30. */
  cpuSeconds: number;
  /** Largest virtual disk accepted. Default 2 TiB. */
  maxVirtualBytes: number;
}

export const DEFAULT_INSPECT_LIMITS: InspectLimits = {
  memoryBytes: 2 ** 30,
  cpuSeconds: 30,
  maxVirtualBytes: 2 * 2 ** 40,
};

const SUPPORTED = new Set(["raw", "qcow2", "vmdk", "vpc", "vhdx", "vdi", "qed"]);

/**
 * Finds the format and size of a disk file and refuses what must never be opened: backing files,
 * external data files and VMDK extents (they make qemu read other files of the host), encryption,
 * files that are no disk. The header checks run before qemu-img sees the file; qemu-img then runs
 * under prlimit (memory and CPU) because it parses untrusted metadata.
 *
 * @example
 * const info = await inspectDisk({ path: "/work/disk.vmdk", signal });
 * // { format: "vmdk", subformat: "streamOptimized", virtualSize: 2147483648, openArgs: [...] }
 */
export async function inspectDisk(options: {
  path: string;
  signal?: AbortSignal;
  limits?: Partial<InspectLimits>;
  log?: (message: string) => void;
}): Promise<DiskInfo> {
  const limits = { ...DEFAULT_INSPECT_LIMITS, ...options.limits };
  const { path } = options;
  const { head, tail, size } = await readEnds(path);
  if (size === 0) throw agentErrors.notADiskImage("The file is empty");
  const forced = checkHeaders(head, tail);
  const args = [
    `--as=${limits.memoryBytes}`,
    `--cpu=${limits.cpuSeconds}`,
    "--",
    "qemu-img",
    "info",
    "--output=json",
  ];
  if (forced) args.push("--image-opts", imageOpts(forced, path));
  else args.push(path);
  const r = await runCommand("prlimit", args, {
    signal: options.signal,
    timeoutMs: (limits.cpuSeconds + 30) * 1000,
  });
  if (r.code !== 0) {
    if (r.signal || r.timedOut) {
      throw agentErrors.unsupportedImage(
        `qemu-img could not read the image within its limits (${r.signal ?? "timeout"})`,
      );
    }
    throw agentErrors.notADiskImage(
      `qemu-img cannot read the file: ${lastLine(r.stderr).replace(/^qemu-img: /, "")}`,
    );
  }
  let info: QemuInfo;
  try {
    info = JSON.parse(r.stdout) as QemuInfo;
  } catch {
    throw agentErrors.unsupportedImage("qemu-img info answered something that is not JSON");
  }
  const format = info.format;
  if (info["backing-filename"] || info["full-backing-filename"]) {
    throw agentErrors.backingFileRefused(
      `The image has a backing file (${info["backing-filename"]}); it is not self-contained`,
    );
  }
  const data = info["format-specific"]?.data;
  if (data?.["data-file"])
    throw agentErrors.backingFileRefused(
      `The image keeps its data in an external file (${data["data-file"]})`,
    );
  // qemu reports extents combined with the image's path; only the image itself may be one (a name
  // alone proves nothing: the download takes its name from the URL, `…/shadow` names `/etc/shadow`).
  for (const extent of data?.extents ?? []) {
    if (extent.filename && resolve(extent.filename) !== resolve(path)) {
      throw agentErrors.backingFileRefused(`The VMDK refers to an external extent file (${extent.filename})`);
    }
  }
  if (info.encrypted || data?.encrypt)
    throw agentErrors.unsupportedImage("The image is encrypted", "Give an unencrypted image");
  if (!SUPPORTED.has(format)) {
    throw agentErrors.unsupportedImage(
      `The disk format ${format} is not supported`,
      "Convert it to raw, qcow2 or vmdk first",
    );
  }
  if (format === "raw") checkRawIsDisk(head);
  const virtualSize = info["virtual-size"];
  if (!(virtualSize > 0)) throw agentErrors.notADiskImage("The disk image has no size");
  if (virtualSize > limits.maxVirtualBytes) {
    throw agentErrors.unsupportedImage(
      `The disk is ${virtualSize} bytes, more than the ${limits.maxVirtualBytes} allowed`,
    );
  }
  const subformat =
    forced === "vpc" && !head.subarray(0, 8).equals(VHD_COOKIE) ? "fixed" : data?.["create-type"];
  return {
    path,
    format,
    virtualSize,
    actualSize: info["actual-size"] ?? size,
    openArgs: format === "vpc" ? ["--image-opts", imageOpts("vpc", path)] : ["-f", format, path],
    ...(subformat ? { subformat } : {}),
  };
}

interface QemuInfo {
  format: string;
  "virtual-size": number;
  "actual-size"?: number;
  "backing-filename"?: string;
  "full-backing-filename"?: string;
  encrypted?: boolean;
  "format-specific"?: {
    type: string;
    data?: {
      "data-file"?: string;
      "create-type"?: string;
      extents?: { filename?: string }[];
      encrypt?: unknown;
    };
  };
}

const VHD_COOKIE = Buffer.from("conectix", "latin1");
const QCOW_MAGIC = Buffer.from([0x51, 0x46, 0x49, 0xfb]);

/**
 * Header checks that need no qemu: a qcow2 backing file or external data file, a VMDK text
 * descriptor (its extents are other files), a fixed VHD (qemu would probe it as raw).
 * Returns a format to force, if any.
 */
function checkHeaders(head: Buffer, tail: Buffer): string | undefined {
  if (head.subarray(0, 4).equals(QCOW_MAGIC) && head.length >= 104) {
    const version = head.readUInt32BE(4);
    const backingOffset = head.readBigUInt64BE(8);
    if (backingOffset !== 0n)
      throw agentErrors.backingFileRefused("The qcow2 image has a backing file; it is not self-contained");
    if (head.readUInt32BE(32) !== 0)
      throw agentErrors.unsupportedImage("The qcow2 image is encrypted", "Give an unencrypted image");
    // Incompatible feature bit 2: the guest data lives in an external file.
    if (version >= 3 && (head.readBigUInt64BE(72) & 4n) !== 0n) {
      throw agentErrors.backingFileRefused("The qcow2 image keeps its data in an external file");
    }
  }
  const text = head.subarray(0, 512).toString("latin1");
  if (/^# Disk DescriptorFile/.test(text)) {
    throw agentErrors.backingFileRefused("The VMDK is a descriptor that refers to separate extent files");
  }
  if (tail.subarray(0, 8).equals(VHD_COOKIE) || head.subarray(0, 8).equals(VHD_COOKIE)) return "vpc";
  return undefined;
}

/**
 * A raw image must look like a disk: an MBR boot signature or a GPT header. Anything else (a web
 * page, a text file, a bare filesystem) would only fail later, less clearly.
 */
function checkRawIsDisk(head: Buffer): void {
  const mbr = head.length >= 512 && head[510] === 0x55 && head[511] === 0xaa;
  const gpt =
    head.subarray(512, 520).toString("latin1") === "EFI PART" ||
    head.subarray(4096, 4104).toString("latin1") === "EFI PART";
  if (mbr || gpt) return;
  const start = head.subarray(0, 512).toString("latin1").trimStart().toLowerCase();
  if (start.startsWith("<!doctype html") || start.startsWith("<html") || start.startsWith("<?xml")) {
    throw agentErrors.notADiskImage(
      "The file is a web page or XML document, not a disk image",
      "The URL probably leads to a download page; use the direct link to the image file",
    );
  }
  if (head.length >= 1082 && head.readUInt16LE(1080) === 0xef53) {
    throw agentErrors.unsupportedImage(
      "The file is a bare ext2/3/4 filesystem without a partition table",
      "Give a whole-disk image with a partition table (MBR or GPT)",
    );
  }
  throw agentErrors.notADiskImage(
    "The file is not a disk image: no known image format and no partition table",
  );
}

function imageOpts(driver: string, path: string): string {
  const file = path.replaceAll(",", ",,");
  // Hyper-V and Azure VHDs state their true size in the footer; the CHS geometry may round it.
  return driver === "vpc"
    ? `driver=vpc,force_size_calc=current_size,file.driver=file,file.filename=${file}`
    : `driver=${driver},file.driver=file,file.filename=${file}`;
}

async function readEnds(path: string): Promise<{ head: Buffer; tail: Buffer; size: number }> {
  const fh = await open(path, "r");
  try {
    const { size } = await fh.stat();
    const head = Buffer.alloc(Math.min(size, 8192));
    await fh.read(head, 0, head.length, 0);
    const tail = Buffer.alloc(Math.min(size, 512));
    await fh.read(tail, 0, tail.length, size - tail.length);
    return { head, tail, size };
  } finally {
    await fh.close();
  }
}

export const inspectStep = defineStep("inspect", "Inspecting disk image...", fixedCost(1 << 20), {
  failureCode: "not_a_disk_image",
  async run(ctx, state) {
    const info = await inspectDisk({ path: state.unpack!.disk, signal: ctx.signal });
    state.disk = info;
    ctx.estimate("convert", info.virtualSize);
    ctx.estimate("shrink", info.virtualSize);
    ctx.estimate("upload", Math.min(info.virtualSize, Math.max(info.actualSize, state.unpack!.bytes) * 2));
    ctx.log.info(
      `disk image: ${info.format}${info.subformat ? ` (${info.subformat})` : ""}, virtual size ${info.virtualSize} bytes, ${info.actualSize} bytes allocated`,
    );
    return "done";
  },
});
