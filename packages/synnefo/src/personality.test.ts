import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SynnefoError } from "./errors.ts";
import {
  checkPersonality,
  MAX_PERSONALITY_SIZE,
  type PersonalityFile,
  personalityFile,
} from "./personality.ts";

const refused = (files: PersonalityFile[], status: number, message: RegExp) =>
  assert.throws(
    () => checkPersonality(files),
    (e) =>
      e instanceof SynnefoError && e.status === status && message.test(e.message) && e.request === undefined,
  );

describe("personalityFile", () => {
  it("encodes contents as base64 and keeps the options", () => {
    assert.deepEqual(personalityFile("/etc/x", "héllo", { mode: 0o600, owner: "root" }), {
      path: "/etc/x",
      contents: Buffer.from("héllo").toString("base64"),
      mode: 384,
      owner: "root",
    });
  });
});

describe("checkPersonality", () => {
  it("accepts up to 5 files of up to 10240 base64 characters", () => {
    const biggest = personalityFile("/big", Buffer.alloc(7680));
    assert.equal(biggest.contents.length, MAX_PERSONALITY_SIZE);
    checkPersonality([biggest, ...Array.from({ length: 4 }, (_, i) => personalityFile(`/f${i}`, "x"))]);
    checkPersonality([]);
  });

  it("refuses a sixth file with 413 overLimit", () => {
    refused(
      Array.from({ length: 6 }, (_, i) => personalityFile(`/f${i}`, "x")),
      413,
      /^Maximum number of personalities exceeded$/,
    );
  });

  it("refuses contents over 10240 characters with 413 overLimit", () => {
    refused([personalityFile("/big", Buffer.alloc(7681))], 413, /^Maximum size of personality exceeded$/);
  });

  it("refuses malformed entries with 400 badRequest", () => {
    const bad = "Malformed personality in request";
    refused([{ path: "/x", contents: "eA==", color: "red" } as PersonalityFile], 400, new RegExp(bad));
    refused([{ path: "", contents: "eA==" }], 400, new RegExp(bad));
    refused([{ path: "/x", contents: "not base64!" }], 400, new RegExp(bad));
    refused([{ path: "/x", contents: "eA==", mode: 384.5 } as PersonalityFile], 400, new RegExp(bad));
    refused([{ path: "/x", contents: "eA==", mode: 0o10000 }], 400, new RegExp(bad));
    refused([null as unknown as PersonalityFile], 400, new RegExp(bad));
  });
});
