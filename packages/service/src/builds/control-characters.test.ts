import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { findControlCharacter } from "./control-characters.ts";

describe("findControlCharacter", () => {
  it("finds NUL, other C0, DEL and C1 characters in any nested string, with its path", () => {
    assert.deepEqual(findControlCharacter({ name: "a\u0000b" }, "build"), {
      path: "build.name",
      codePoint: "U+0000",
    });
    assert.deepEqual(
      findControlCharacter({ image: { object: "x\u001by" } }, "build")?.path,
      "build.image.object",
    );
    assert.deepEqual(findControlCharacter({ networks: [{ uuid: "ok" }, { port: "\u007f" }] }, "build"), {
      path: "build.networks.1.port",
      codePoint: "U+007F",
    });
    assert.equal(findControlCharacter({ src: "http://x/\u009b" }, "build")?.codePoint, "U+009B");
  });

  it("lets a description span lines, but nothing else", () => {
    assert.equal(findControlCharacter({ description: "line 1\r\nline 2\tend" }, "build"), undefined);
    assert.equal(findControlCharacter({ description: "a\u0000" }, "build")?.path, "build.description");
    assert.equal(findControlCharacter({ name: "line 1\nline 2" }, "build")?.path, "build.name");
  });

  it("accepts ordinary text in any script", () => {
    assert.equal(
      findControlCharacter({ name: "Εικόνα 6 — ünïcode ✓", public: true, n: 3 }, "build"),
      undefined,
    );
  });
});
