/** Tests of `icaas log` with the real agent: following a build prints its log once, in order, as it grows. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { USER_A } from "@icaas/service/testing";
import { BuildFailedError, EXIT } from "../errors.ts";
import { captureIo } from "../io.ts";
import { suiteStack } from "../testing/suite-stack.ts";
import { log } from "./log.ts";

describe("icaas log", () => {
  const stack = suiteStack({ agent: true });

  /** The whole log the agent uploaded to Pithos (devcloud), as lines. */
  async function pithosLog(container: string, object: string): Promise<string[]> {
    const url = `${stack.harness.cloud.url}/object-store/v1/${USER_A.uuid}/${container}/${object}`;
    const res = await fetch(url, { headers: { "x-auth-token": stack.token } });
    assert.equal(res.status, 200, url);
    return (await res.text()).trimEnd().split("\n");
  }

  it("--follow prints every line of a build once and in order, then ends with it", async () => {
    const { build } = await stack.client.createBuild({ name: "followed", src: stack.diskUrl });
    const cap = captureIo();
    const ended = await log({ ...stack.auth, io: cap.io, id: build.id, follow: true, intervalMs: 50 });
    assert.equal(ended.status, "COMPLETED");
    const printed = cap.stdout().trimEnd().split("\n");
    assert.equal(new Set(printed).size, printed.length, "no line twice");
    for (const line of printed) assert.match(line, /^\d{4}-\d\d-\d\dT[\d:.]+Z (INFO|WARN|ERROR) /, line);
    const at = (text: string) => printed.findIndex((l) => l.includes(text));
    assert.ok(at("step download: started") >= 0, cap.stdout());
    assert.ok(at("step download: started") < at("step prepare: started"));
    assert.ok(at("step prepare: started") < at("image creation finished"));

    // What was printed is the agent's log as uploaded: the same lines in the same order.
    const whole = await pithosLog(ended.log.container, ended.log.object);
    let j = 0;
    for (const line of printed) {
      while (j < whole.length && whole[j] !== line) j++;
      assert.ok(j < whole.length, `printed but not in the log, or out of order: ${line}`);
    }
    if (!cap.stderr().includes("lines were skipped")) {
      assert.deepEqual(printed, whole.slice(0, printed.length), "nothing left out");
    }
    assert.match(cap.stderr(), new RegExp(`build ${build.id} COMPLETED\\n$`));

    // Without --follow: the tail the service keeps, and where the rest is.
    const tail = captureIo();
    const shown = await log({ ...stack.auth, io: tail.io, id: build.id });
    assert.equal(tail.stdout(), `${shown.log_tail!.join("\n")}\n`);
    assert.equal(shown.log_tail!.length, 50);
    assert.equal(
      tail.stderr(),
      `(the last 50 lines; the whole log is the Pithos object ${ended.log.container}/${ended.log.object})\n`,
    );
  });

  it("--follow on a failed build prints its last lines and exits 1", async () => {
    const { build } = await stack.client.createBuild({ name: "fails", src: `${stack.src.url}/gone.img` });
    const cap = captureIo();
    const error = await log({ ...stack.auth, io: cap.io, id: build.id, follow: true, intervalMs: 50 }).catch(
      (e: unknown) => e,
    );
    assert.ok(error instanceof BuildFailedError);
    assert.equal(error.exitCode, EXIT.failure);
    assert.match(cap.stdout(), /ERROR step download: failed: download_not_found/);
  });
});
