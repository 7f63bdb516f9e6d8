/** Tests of `icaas cancel` on a build whose agent is downloading: CANCELED, VM gone, waiting exits 1. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { vmDeleted } from "@icaas/service/testing";
import { ApiError, BuildFailedError, describeError, EXIT } from "../errors.ts";
import { captureIo } from "../io.ts";
import { suiteStack } from "../testing/suite-stack.ts";
import { cancel } from "./cancel.ts";
import { wait } from "./wait.ts";

describe("icaas cancel", () => {
  const stack = suiteStack({ agent: true });

  it("cancels a downloading build: CANCELED, its VM destroyed, wait exits 1; a second cancel is refused", async () => {
    const { build } = await stack.client.createBuild({ name: "to cancel", src: stack.slowUrl });
    for (let i = 0; ; i++) {
      const b = await stack.client.getBuild(build.id);
      if (b.steps.some((s) => s.name === "download" && s.state === "running")) break;
      assert.ok(i < 200, `the download never started: ${JSON.stringify(b.status_details)}`);
      await sleep(50);
    }
    const cap = captureIo();
    await cancel({ ...stack.auth, io: cap.io, id: String(build.id) });
    assert.equal(cap.stdout(), `build ${build.id} canceled\n`);
    const after = await stack.client.getBuild(build.id);
    assert.equal(after.status, "CANCELED");
    assert.equal(after.status_details.details, "Canceled by the user");
    const vm = await vmDeleted(stack.harness.cloud, build.id, stack.harness.service.endpoint);
    assert.equal(vm.deleted, true);

    const waited = await wait({ ...stack.auth, io: captureIo().io, id: build.id }).catch((e: unknown) => e);
    assert.ok(waited instanceof BuildFailedError);
    assert.equal(waited.exitCode, EXIT.failure);
    assert.equal(describeError(waited), `error: build ${build.id} was CANCELED: Canceled by the user`);

    const again = await cancel({ ...stack.auth, io: captureIo().io, id: build.id }).catch((e: unknown) => e);
    assert.ok(again instanceof ApiError);
    assert.equal(again.exitCode, EXIT.failure);
    assert.equal(
      describeError(again),
      `error: Build is not active (build_not_active)\nhint: only a CREATING build can be canceled; see its state with: icaas show ${build.id}`,
    );
  });

  it("exits 4 for a build that does not exist", async () => {
    const error = await cancel({ ...stack.auth, io: captureIo().io, id: 424242 }).catch((e: unknown) => e);
    assert.ok(error instanceof ApiError);
    assert.equal(error.exitCode, EXIT.notFound);
  });
});
