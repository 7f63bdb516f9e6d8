/** Tests of the human output: sizes, durations, the aligned table, progress lines, hostile text. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Build } from "@icaas/contract";
import {
  buildDetails,
  buildTable,
  clean,
  formatBytes,
  formatDuration,
  parseDuration,
  progressLine,
  table,
} from "./format.ts";

function build(over: Partial<Build> = {}): Build {
  return {
    id: 7,
    name: "debian",
    links: [{ href: "http://x/icaas/builds/7", rel: "self" }],
    status: "CREATING",
    src: "http://127.0.0.1/d.img",
    description: "",
    public: false,
    status_details: { details: "Downloading image file..." },
    image: { container: "images", object: "debian-7.diskdump" },
    log: { container: "icaas", object: "debian-7.log" },
    project: null,
    networks: null,
    checksum: null,
    created: "2026-11-25T07:35:58.122Z",
    updated: "2026-11-25T07:36:00.331Z",
    progress: 27,
    steps: [
      { name: "manifest", state: "done", bytes_done: 0, bytes_total: 0, started: null, finished: null },
      {
        name: "download",
        state: "running",
        bytes_done: 3 * 2 ** 20,
        bytes_total: 12 * 2 ** 20,
        started: null,
        finished: null,
      },
      { name: "prepare", state: "pending", bytes_done: 0, bytes_total: null, started: null, finished: null },
    ],
    error: null,
    image_id: null,
    image_location: null,
    ...over,
  };
}

describe("format", () => {
  it("writes sizes in binary units and parses durations with units", () => {
    assert.equal(formatBytes(512), "512 B");
    assert.equal(formatBytes(1536), "1.5 KiB");
    assert.equal(formatBytes(5 * 2 ** 30), "5.0 GiB");
    assert.equal(formatDuration(83_000), "1m 23s");
    assert.equal(formatDuration(7_260_000), "2h 1m");
    assert.equal(parseDuration("90"), 90);
    assert.equal(parseDuration("15m"), 900);
    assert.equal(parseDuration("2h"), 7200);
    assert.equal(parseDuration("0.5s"), 0.5);
    assert.equal(parseDuration("soon"), undefined);
  });

  it("aligns every column of a table to its widest cell", () => {
    const text = table(
      ["ID", "NAME"],
      [
        ["1", "a"],
        ["1234", "bb"],
      ],
    );
    assert.deepEqual(text.split("\n"), ["ID    NAME", "1     a", "1234  bb"]);
    const rows = buildTable([
      build(),
      build({ id: 12, status: "COMPLETED", progress: 100, name: "x" }),
    ]).split("\n");
    const statusAt = rows[0]!.indexOf("STATUS");
    assert.ok(
      rows.every((r) => r.slice(statusAt).match(/^(STATUS|CREATING|COMPLETED)/)),
      rows.join("\n"),
    );
    assert.match(rows[1]!, /27% download/);
  });

  it("shows step, percent and bytes in the progress line, and no bytes for steps that count none", () => {
    assert.equal(
      progressLine(build()),
      "build 7: 27% download 3.0 MiB / 12.0 MiB (Downloading image file...)",
    );
    const preparing = build({
      progress: 40,
      status_details: { details: "Preparing" },
      steps: [
        {
          name: "prepare",
          state: "running",
          bytes_done: 0,
          bytes_total: null,
          started: null,
          finished: null,
        },
      ],
    });
    assert.equal(progressLine(preparing), "build 7: 40% prepare (Preparing)");
    assert.equal(
      progressLine(build({ progress: 0, steps: [], status_details: { details: "Build request accepted" } })),
      "build 7: 0% (Build request accepted)",
    );
  });

  it("neutralises control characters from names, messages and log lines", () => {
    const evil = "ok\x1b[2J\x1b]0;pwned\x07\r\nfake\u009b";
    assert.equal(clean(evil).includes("\x1b"), false);
    assert.equal(/[\r\n\x07\u009b]/.test(clean(evil)), false);
    const text = buildDetails(
      build({
        name: evil,
        status: "ERROR",
        error: { code: "x", message: evil, step: "download", hint: evil },
        log_tail: [evil],
      }),
    );
    assert.equal(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/.test(text), false, JSON.stringify(text));
  });

  it("shows an ended build's error, hint and how long it took", () => {
    const text = buildDetails(
      build({
        status: "ERROR",
        updated: "2026-11-25T07:37:00.122Z",
        error: { code: "download_not_found", message: "Not there", step: "download", hint: "Check the URL" },
      }),
    );
    assert.match(text, /^error: +Not there \(download_not_found\)$/m);
    assert.match(text, /^hint: +Check the URL$/m);
    assert.match(text, /^updated: .*\(took 1m 2s\)$/m);
    assert.match(text, /^ {2}download +running +3\.0 MiB \/ 12\.0 MiB/m);
  });
});
