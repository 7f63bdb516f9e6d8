/** Tests of `icaas show`: the JSON shape, the human view of a running, a failed and a finished build. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Build } from "@icaas/contract";
import { seedBuilds, USER_B } from "@icaas/service/testing";
import { IcaasClient } from "../client.ts";
import { UsageError } from "../errors.ts";
import { captureIo } from "../io.ts";
import { BUILD_FIELDS as FIELDS } from "../testing/build-fields.ts";
import { type Stack, startStack } from "../testing/stack.ts";
import { show } from "./show.ts";

describe("icaas show", () => {
  let stack: Stack;
  let b: { url: string; token: string };
  let seeded: Build[];

  before(async () => {
    stack = await startStack();
    const { ctx } = stack.harness.service;
    await seedBuilds(ctx.store, { users: { [USER_B.uuid]: 10 }, token: USER_B.token, box: ctx.box });
    b = { url: stack.url, token: USER_B.token };
    seeded = await new IcaasClient({ api: `${stack.url}/icaas`, token: USER_B.token }).listBuilds();
  });
  after(async () => {
    await stack?.close();
  });

  it("--json prints the build as the API gives it, with every documented field", async () => {
    const client = new IcaasClient({ api: `${stack.url}/icaas`, token: stack.token });
    const { build } = await client.createBuild({
      name: "shape",
      src: `${stack.src.url}/x.img`,
      checksum: `sha256:${"ab".repeat(32)}`,
    });
    try {
      const cap = captureIo();
      await show({ ...stack.auth, io: cap.io, id: build.id, json: true });
      const printed = JSON.parse(cap.stdout());
      assert.deepEqual(Object.keys(printed).sort(), FIELDS);
      assert.equal(printed.id, build.id);
      assert.equal(printed.status, "CREATING");
      assert.equal(printed.checksum, `sha256:${"ab".repeat(32)}`);
      assert.equal(typeof printed.status_details, "object");
      assert.match(printed.links[0].href, new RegExp(`/icaas/builds/${build.id}$`));
    } finally {
      await client.deleteBuild(build.id);
    }
  });

  it("shows a failed build's error and hint, its steps and the last log lines", async () => {
    const failed = seeded.find((x) => x.status === "ERROR")!;
    const cap = captureIo();
    await show({ ...b, io: cap.io, id: failed.id });
    const text = cap.stdout();
    assert.match(text, new RegExp(`^build ${failed.id}  ${failed.name}\\n`));
    assert.match(text, /^status: +ERROR$/m);
    assert.match(text, /^error: +The source answered 404 Not Found \(download_not_found\)$/m);
    assert.match(text, /^failed step: +download$/m);
    assert.match(text, /^hint: +Check the URL$/m);
    const steps = text.slice(text.indexOf("steps:\n") + 7, text.indexOf("\nerror:")).split("\n");
    assert.equal(steps.length, failed.steps.length);
    for (const [i, step] of failed.steps.entries()) {
      assert.match(steps[i]!, new RegExp(`^  ${step.name} +${step.state}\\b`), steps[i]);
      if (step.state === "done") assert.match(steps[i]!, / 1\.0 GiB +29s$/, "bytes and time of a done step");
      if (step.state === "pending") assert.match(steps[i]!, /pending$/, "nothing more for a pending step");
    }
    const tail = (
      await new IcaasClient({ api: `${stack.url}/icaas`, token: USER_B.token }).getBuild(failed.id)
    ).log_tail!;
    assert.match(text, new RegExp(`^log \\(last 10 of 50 lines; all: icaas log ${failed.id}\\):$`, "m"));
    assert.deepEqual(
      text.trimEnd().split("\n").slice(-10),
      tail.slice(-10).map((l) => `  ${l}`),
    );
  });

  it("shows a finished build's image and how long it took", async () => {
    const done = seeded.find((x) => x.status === "COMPLETED")!;
    const cap = captureIo();
    await show({ ...b, io: cap.io, id: done.id });
    assert.match(cap.stdout(), new RegExp(`^image: +${done.image_location!.replace(/[.]/g, "\\.")}$`, "m"));
    assert.match(cap.stdout(), new RegExp(`^image id: +${done.image_id}$`, "m"));
    assert.match(cap.stdout(), /^updated: .*\(took \d+m \d+s\)$/m);
  });

  it("refuses an id that is not a number before asking the service (exit 2)", async () => {
    const error = await show({
      url: "http://127.0.0.1:9",
      token: "t",
      io: captureIo().io,
      id: "12abc",
    }).catch((e: unknown) => e);
    assert.ok(error instanceof UsageError);
    assert.equal(error.message, 'invalid build id "12abc": expected a positive number');
  });
});
