/** Tests of `icaas delete`: the build disappears (show exits 4), its VM is destroyed. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { vmDeleted } from "@icaas/service/testing";
import { ApiError, describeError, EXIT } from "../errors.ts";
import { captureIo } from "../io.ts";
import { runCli } from "../testing/stack.ts";
import { suiteStack } from "../testing/suite-stack.ts";
import { deleteBuild } from "./delete.ts";
import { list } from "./list.ts";
import { show } from "./show.ts";

describe("icaas delete", () => {
  const stack = suiteStack();

  it("deletes a running build: gone from show (exit 4) and list, its VM destroyed", async () => {
    const { build } = await stack.client.createBuild({ name: "to delete", src: `${stack.src.url}/x.img` });
    const keep = await stack.client.createBuild({ name: "to keep", src: `${stack.src.url}/y.img` });
    const cap = captureIo();
    await deleteBuild({ ...stack.auth, io: cap.io, id: build.id });
    assert.equal(cap.stdout(), `build ${build.id} deleted (objects it put in Pithos are kept)\n`);

    const shown = await show({ ...stack.auth, io: captureIo().io, id: build.id }).catch((e: unknown) => e);
    assert.ok(shown instanceof ApiError);
    assert.equal(shown.exitCode, EXIT.notFound);
    assert.equal(describeError(shown), "error: Build not found (build_not_found)");
    const env = { ICAAS_URL: stack.url, ICAAS_TOKEN: stack.token };
    const cli = await runCli(["show", String(build.id)], env, [stack.token]);
    assert.equal(cli.code, EXIT.notFound);
    assert.equal(cli.stderr, "error: Build not found (build_not_found)\n");
    assert.equal(cli.stdout, "");

    const ids = (await list({ ...stack.auth, io: captureIo().io, all: true })).map((b) => b.id);
    assert.ok(!ids.includes(build.id) && ids.includes(keep.build.id), `${ids}`);
    assert.equal((await runCli(["delete", String(build.id)], env, [stack.token])).code, EXIT.notFound);
    await vmDeleted(stack.harness.cloud, build.id, stack.harness.service.endpoint);

    await deleteBuild({ ...stack.auth, io: captureIo().io, id: keep.build.id });
    await vmDeleted(stack.harness.cloud, keep.build.id, stack.harness.service.endpoint);
  });
});
