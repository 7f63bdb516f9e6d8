/** @module partitions.test — tests for partitions: sfdisk JSON of MBR (extended/logical) and GPT tables. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { containerOf, lastPartition, parseSfdiskJson, partitionKind } from "./partitions.ts";

describe("partition tables", () => {
  it("parses MBR with extended and logical partitions", () => {
    const t = parseSfdiskJson(
      JSON.stringify({
        partitiontable: {
          label: "dos",
          id: "0x22133cef",
          device: "/images/disk9",
          unit: "sectors",
          sectorsize: 512,
          partitions: [
            { node: "/images/disk9p1", start: 2048, size: 65536, type: "83", bootable: true },
            { node: "/images/disk9p2", start: 67584, size: 546816, type: "5" },
            { node: "/images/disk9p5", start: 69632, size: 131072, type: "83" },
            { node: "/images/disk9p6", start: 202752, size: 411648, type: "82" },
          ],
        },
      }),
    );
    assert.deepEqual(
      t.partitions.map((p) => [p.number, p.kind, p.logical, p.bootable, p.offset]),
      [
        [1, "linux", false, true, 1048576],
        [2, "extended", false, false, 34603008],
        [5, "linux", true, false, 35651584],
        [6, "swap", true, false, 103809024],
      ],
    );
    assert.equal(containerOf(t, t.partitions[2]!)?.number, 2);
    assert.equal(lastPartition(t)?.number, 2);
  });

  it("parses GPT with GUIDs and names; knows type GUIDs", () => {
    const t = parseSfdiskJson(
      JSON.stringify({
        partitiontable: {
          label: "gpt",
          id: "43BCF588-028D-8D46-AFD4-4A92E7E4B9F2",
          device: "d.raw",
          firstlba: 2048,
          lastlba: 409566,
          partitions: [
            {
              node: "d.raw1",
              start: 2048,
              size: 2048,
              type: "0657fd6d-a4ab-43c4-84e5-0933c84b4f4f",
              uuid: "C73E",
              name: "swap",
            },
          ],
        },
      }),
    );
    assert.deepEqual(
      [t.firstLba, t.lastLba, t.partitions[0]?.kind, t.partitions[0]?.name],
      [2048, 409566, "swap", "swap"],
    );
    assert.equal(partitionKind("gpt", "E6D6D379-F507-44C2-A23C-238F2A3DF928"), "lvm");
    assert.equal(partitionKind("dos", "8e"), "lvm");
    assert.equal(partitionKind("dos", "0x0f"), "extended");
  });
});
