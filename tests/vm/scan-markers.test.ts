import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { findNeedles } from "./scan-markers.ts";

async function* pieces(...parts: string[]): AsyncGenerator<Buffer> {
  for (const p of parts) yield Buffer.from(p);
}

describe("findNeedles", () => {
  it("finds needles inside chunks and across chunk borders, and nothing that is not there", async () => {
    const found = await findNeedles(pieces("xxSECRET-Axx", "yySEC", "RET-Byy", "zz"), [
      "SECRET-A",
      "SECRET-B",
      "SECRET-C",
    ]);
    assert.deepEqual(found, ["SECRET-A", "SECRET-B"]);
  });
});
