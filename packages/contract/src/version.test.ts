import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { VERSION } from "./version.ts";

describe("VERSION", () => {
  it("is the version of every workspace package", () => {
    const packages = new URL("../../", import.meta.url);
    for (const name of readdirSync(packages)) {
      const file = new URL(`${name}/package.json`, packages);
      const { version } = JSON.parse(readFileSync(file, "utf8")) as { version: string };
      assert.equal(version, VERSION, `packages/${name}/package.json`);
    }
  });
});
