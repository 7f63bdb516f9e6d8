/** @module metadata.test — tests for metadata: SORTORDER, REMOTE_CONNECTION and FIRMWARE. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { firmwareFor, remoteConnection, sortOrder } from "./metadata.ts";
import { type Partition, type PartitionTable, partitionKind } from "./partitions.ts";

function table(label: PartitionTable["label"], types: string[]): PartitionTable {
  const partitions = types.map(
    (type, i) => ({ number: i + 1, type, kind: partitionKind(label, type) }) as unknown as Partition,
  );
  return { label, sectorSize: 512, partitions } as unknown as PartitionTable;
}

describe("metadata", () => {
  it("SORTORDER follows snf-image-creator", () => {
    assert.equal(sortOrder({ type: "linux", distro: "debian", major: 12, minor: 11 }), 7701211);
    assert.equal(sortOrder({ type: "linux", distro: "ubuntu", major: 14, minor: 4 }), 7801404);
    assert.equal(sortOrder({ type: "linux", distro: "centos", major: 150, minor: 200 }), 7559999);
    assert.equal(sortOrder({ type: "linux", distro: "pop", major: 22, minor: 4 }), 7000000);
  });
  it("REMOTE_CONNECTION lists a connection per user, without root when sshd refuses it", () => {
    assert.equal(
      remoteConnection(["root", "ann"], { port: 22, permitRootLogin: "yes" }),
      "ssh:port=22,user=root ssh:port=22,user=ann",
    );
    assert.equal(
      remoteConnection(["root", "ann"], { port: 2222, permitRootLogin: "no" }),
      "ssh:port=2222,user=ann",
    );
    assert.equal(remoteConnection(["root"], { port: 22, permitRootLogin: "No" }), "ssh:port=22");
    assert.equal(remoteConnection([], { port: 22, permitRootLogin: "prohibit-password" }), "ssh:port=22");
  });
  it("FIRMWARE is uefi for a disk with an EFI system partition (GPT or MBR), unset otherwise", () => {
    const ESP = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
    const BIOS_BOOT = "21686148-6449-6E6F-744E-656564454649";
    const ROOT = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709";
    assert.equal(firmwareFor(table("gpt", [ROOT, BIOS_BOOT, ESP])), "uefi");
    assert.equal(firmwareFor(table("dos", ["ef", "83"])), "uefi");
    assert.equal(firmwareFor(table("gpt", [BIOS_BOOT, ROOT])), undefined);
    assert.equal(firmwareFor(table("dos", ["83"])), undefined);
    assert.equal(firmwareFor(undefined), undefined);
  });
});
