/** @module validate.test — the create form refuses what the service would, and sends only what was filled in. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkSourceUrl, EMPTY_FORM, toNewBuild, validateForm } from "./validate.ts";

describe("checkSourceUrl", () => {
  it("accepts http and https only", () => {
    assert.equal(checkSourceUrl("https://example.org/disk.qcow2"), null);
    assert.equal(checkSourceUrl("http://127.0.0.1:8080/a.img"), null);
    assert.match(checkSourceUrl("ftp://example.org/a.img") ?? "", /Only http:\/\/ and https:\/\//);
    assert.match(checkSourceUrl("file:///etc/passwd") ?? "", /not file:/);
    assert.match(checkSourceUrl("example.org/a.img") ?? "", /full URL/);
    assert.match(checkSourceUrl("  ") ?? "", /Enter the URL/);
  });
  it("refuses what the service refuses although a browser would repair it", () => {
    assert.match(checkSourceUrl("http://example.org/a disk.img") ?? "", /whitespace/);
    assert.match(checkSourceUrl("http:///etc/passwd") ?? "", /host/);
    assert.match(checkSourceUrl(`http://example.org/${"a".repeat(4096)}`) ?? "", /at most 4096/);
  });
});

describe("validateForm", () => {
  it("requires a source and a name", () => {
    const errors = validateForm(EMPTY_FORM);
    assert.ok(errors.src);
    assert.ok(errors.name);
  });
  it("limits the description to 256 characters", () => {
    const form = { ...EMPTY_FORM, src: "http://h/a", name: "a" };
    assert.equal(validateForm({ ...form, description: "x".repeat(256) }).description, undefined);
    assert.match(validateForm({ ...form, description: "x".repeat(257) }).description ?? "", /256/);
  });
  it("refuses a slash in a container name", () => {
    const form = { ...EMPTY_FORM, src: "http://h/a", name: "a", imageContainer: "a/b" };
    assert.ok(validateForm(form).imageContainer);
  });
  it("refuses . and .. as names, as the service does (URLs would collapse them)", () => {
    const form = { ...EMPTY_FORM, src: "http://h/a", name: "a" };
    assert.match(validateForm({ ...form, logContainer: ".." }).logContainer ?? "", /\. or \.\./);
    for (const object of ["..", "a/../b", "a/.", "./a"])
      assert.match(validateForm({ ...form, imageObject: object }).imageObject ?? "", /path segment/, object);
    assert.deepEqual(validateForm({ ...form, imageObject: "a/..b/c.d", logContainer: ".logs" }), {});
  });
});

describe("toNewBuild", () => {
  it("sends only what was filled in, trimmed", () => {
    assert.deepEqual(toNewBuild({ ...EMPTY_FORM, src: " http://h/a ", name: " deb " }), {
      src: "http://h/a",
      name: "deb",
    });
  });
  it("sends advanced fields when given", () => {
    const body = toNewBuild({
      ...EMPTY_FORM,
      src: "http://h/a",
      name: "deb",
      description: "Debian",
      public: true,
      imageContainer: "mine",
      logObject: "logs/deb.log",
      project: "p-1",
    });
    assert.deepEqual(body, {
      src: "http://h/a",
      name: "deb",
      description: "Debian",
      public: true,
      project: "p-1",
      image: { container: "mine" },
      log: { object: "logs/deb.log" },
    });
  });
});
