/** Tests of `icaas create` against a real service, devcloud and agent: a full build, options, idempotency. */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { BuildFailedError, describeError, EXIT } from "../errors.ts";
import { captureIo } from "../io.ts";
import { assertNoSecret, runCli, type Stack, startStack } from "../testing/stack.ts";
import { create } from "./create.ts";

describe("icaas create", () => {
  let stack: Stack;
  let sha256: string;

  before(async () => {
    stack = await startStack({ agent: true });
    sha256 = createHash("sha256")
      .update(await readFile(stack.diskPath))
      .digest("hex");
  });
  after(async () => {
    await stack?.close();
  });

  it("creates a build with every option and --wait ends COMPLETED with the image where asked", async () => {
    const cap = captureIo();
    const build = await create({
      ...stack.auth,
      io: cap.io,
      name: "CLI image 1",
      src: stack.diskUrl,
      description: "made by the CLI test",
      public: true,
      container: "cli-images",
      object: "cli-1.diskdump",
      checksum: `sha256:${sha256}`,
      wait: true,
      intervalMs: 100,
    });
    assert.equal(build.status, "COMPLETED", JSON.stringify(build.error));
    assert.equal(build.progress, 100);
    assert.equal(build.public, true);
    assert.equal(build.description, "made by the CLI test");
    assert.equal(build.checksum, `sha256:${sha256}`);
    assert.deepEqual(
      { container: build.image.container, object: build.image.object },
      { container: "cli-images", object: "cli-1.diskdump" },
    );
    assert.ok(build.image_id);
    assert.match(build.image_location ?? "", /^pithos:\/\/[^/]+\/cli-images\/cli-1\.diskdump$/);
    assert.deepEqual(cap.stdout().split("\n"), [
      `build ${build.id} created: CLI image 1`,
      `build ${build.id} COMPLETED in ${cap.stdout().match(/COMPLETED in (\S+ ?\S*s):/)?.[1]}: image ${build.image_id} at ${build.image_location}`,
      "",
    ]);
    // Not on a terminal: one progress line per change, each "build N: P% …".
    const progress = cap.stderr().trim().split("\n");
    assert.ok(progress.length >= 1, cap.stderr());
    for (const line of progress) assert.match(line, new RegExp(`^build ${build.id}: \\d+%`));
    assertNoSecret({ stdout: cap.stdout(), stderr: cap.stderr() }, [stack.token]);
  });

  it("--wait exits 1 with the agent's error when the checksum does not match", async () => {
    const cap = captureIo();
    const wrong = "0".repeat(64);
    const error = await create({
      ...stack.auth,
      io: cap.io,
      name: "bad checksum",
      src: stack.diskUrl,
      checksum: `sha256:${wrong}`,
      wait: true,
      intervalMs: 100,
    }).then(
      () => assert.fail("resolved"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof BuildFailedError, String(error));
    assert.equal(error.exitCode, EXIT.failure);
    assert.match(
      describeError(error),
      /^error: build \d+ ended in ERROR at step download: .+ \(checksum_mismatch\)/,
    );
  });

  it("prints the new build, and a repeated --idempotency-key gives the same build", async () => {
    const once = {
      ...stack.auth,
      name: "once",
      src: `${stack.src.url}/none.img`,
      idempotencyKey: `cli-test-${Date.now()}`,
    };
    const first = captureIo();
    const a = await create({ ...once, io: first.io });
    assert.equal(a.status, "CREATING");
    assert.equal(first.stdout(), `build ${a.id} created: once (CREATING)\n`);
    assert.equal(first.stderr(), `follow it with: icaas wait ${a.id}\n`);
    const again = captureIo();
    const b = await create({ ...once, io: again.io, json: true });
    assert.equal(b.id, a.id);
    assert.equal(JSON.parse(again.stdout()).id, a.id, "--json prints the build");
    const plain = captureIo();
    await create({ ...once, io: plain.io });
    assert.equal(plain.stdout(), `build ${a.id} already created (same idempotency key): once (CREATING)\n`);
  });

  it("exits 2 when the service refuses an argument, and 2 when a required one is missing", async () => {
    const env = { ICAAS_URL: stack.url, ICAAS_TOKEN: stack.token };
    const bad = await runCli(
      ["create", "--name", "x", "--src", stack.diskUrl, "--checksum", "sha256:xyz!"],
      env,
      [stack.token],
    );
    assert.equal(bad.code, EXIT.usage);
    assert.match(
      bad.stderr,
      /^error: Invalid value for parameter 'build\.checksum': .* \(invalid_parameter\)\n$/,
    );
    const missing = await runCli(["create", "--src", stack.diskUrl], env, [stack.token]);
    assert.equal(missing.code, EXIT.usage);
    assert.match(missing.stderr, /error: required option '--name <name>' not specified/);
  });
});
