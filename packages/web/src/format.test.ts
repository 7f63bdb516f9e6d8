/** @module format.test — durations, sizes, relative times and short URLs. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatBytes, formatDuration, formatRelative, urlHost } from "./format.ts";

describe("format", () => {
  it("formats durations", () => {
    assert.equal(formatDuration(300), "<1 s");
    assert.equal(formatDuration(4_400), "4 s");
    assert.equal(formatDuration(185_000), "3 min 05 s");
    assert.equal(formatDuration(3_720_000), "1 h 02 min");
  });
  it("formats byte counts in binary units", () => {
    assert.equal(formatBytes(512), "512 B");
    assert.equal(formatBytes(1536 * 1024), "1.5 MiB");
    assert.equal(formatBytes(20 * 2 ** 30), "20.0 GiB");
  });
  it("formats recent times relative to now", () => {
    const now = Date.parse("2026-01-01T12:00:00Z");
    assert.equal(formatRelative("2026-01-01T11:59:50Z", now), "just now");
    assert.equal(formatRelative("2026-01-01T11:55:00Z", now), "5 min ago");
    assert.equal(formatRelative("2026-01-01T09:00:00Z", now), "3 h ago");
  });
  it("shortens URLs to host and file", () => {
    assert.equal(urlHost("https://dl.example.org/a/b/disk.qcow2"), "dl.example.org/…/disk.qcow2");
    assert.equal(urlHost("not a url"), "not a url");
  });
});
