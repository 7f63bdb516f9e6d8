/** Tests of `icaas wait` with the real agent: a failed build's error and hint, progress, timeout, outages. */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { BuildFailedError, CliError, describeError, EXIT, exitCodeOf } from "../errors.ts";
import { captureIo } from "../io.ts";
import { runCli } from "../testing/stack.ts";
import { suiteStack } from "../testing/suite-stack.ts";
import { wait } from "./wait.ts";

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => assert.fail("resolved"),
    (e: unknown) => e,
  );
}

/** Answers 503 to the first `failures` requests, then passes requests on to the service. */
async function flakyFront(target: string, failures: number): Promise<{ url: string; server: Server }> {
  let left = failures;
  const server = createServer(async (req, res) => {
    if (left > 0) {
      left--;
      res.writeHead(503, { "content-type": "application/json" });
      res.end(
        '{"message": "Service unavailable, retry later", "status": 503, "code": "service_unavailable"}',
      );
      return;
    }
    const answer = await fetch(`${target}${req.url}`, {
      headers: { "x-auth-token": String(req.headers["x-auth-token"]) },
    });
    res.writeHead(answer.status, { "content-type": "application/json" }).end(await answer.text());
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe("icaas wait", () => {
  const stack = suiteStack({ agent: true });
  let failedId: number;

  it("exits 1 for a failed build, printing the error code, message and hint", async () => {
    const { build } = await stack.client.createBuild({
      name: "missing source",
      src: `${stack.src.url}/nope.img`,
    });
    failedId = build.id;
    const cap = captureIo();
    const error = await rejection(
      wait({ ...stack.auth, io: cap.io, id: build.id, intervalMs: 100, json: true }),
    );
    assert.ok(error instanceof BuildFailedError);
    assert.equal(exitCodeOf(error), EXIT.failure);
    assert.equal(
      describeError(error),
      `error: build ${build.id} ended in ERROR at step download: The image URL was not found (HTTP 404) (download_not_found)\n` +
        "hint: Check that the image URL is right and publicly reachable",
    );
    const printed = JSON.parse(cap.stdout());
    assert.equal(printed.id, build.id, "--json prints the final build even when it failed");
    assert.equal(printed.error.code, "download_not_found");
  });

  it("shows step, percent and bytes while downloading, and exits 5 at --timeout with the build still running", async () => {
    const { build } = await stack.client.createBuild({ name: "slow", src: stack.slowUrl });
    try {
      // The agent starts in a second or several on a busy machine; the 3 s begin once bytes flow.
      for (let i = 0; ; i++) {
        const b = await stack.client.getBuild(build.id);
        if (b.steps.some((step) => step.name === "download" && (step.bytes_done ?? 0) > 0)) break;
        assert.ok(i < 600, "the download never started");
        await sleep(50);
      }
      // On a terminal the line is redrawn at every look, bytes included.
      const cap = captureIo({ tty: true, columns: 200 });
      const started = Date.now();
      const error = await rejection(
        wait({ ...stack.auth, io: cap.io, id: build.id, intervalMs: 100, timeoutSeconds: 3 }),
      );
      const took = Date.now() - started;
      assert.ok(error instanceof CliError);
      assert.equal(error.exitCode, EXIT.timeout);
      assert.ok(took >= 3000 && took < 6000, `gave up after ${took} ms`);
      assert.match(
        describeError(error),
        new RegExp(
          `^error: build ${build.id} is still running after 3s: \\d+% download .*\\nhint: it goes on; wait again with: icaas wait ${build.id}$`,
        ),
      );
      const lines = cap.stderr().split("\r\x1b[2K");
      assert.equal(lines.at(-1), "", "the line is erased at the end");
      const downloading = lines.filter((l) =>
        new RegExp(
          `^build ${build.id}: \\d+% download (\\d+\\.\\d) MiB / 48\\.0 MiB \\(Downloading image file\\.\\.\\.\\)$`,
        ).test(l),
      );
      assert.ok(downloading.length >= 5, JSON.stringify(lines));
      const mib = downloading.map((l) => Number(/download (\S+) MiB/.exec(l)?.[1]));
      assert.ok(mib.at(-1)! > mib[0]!, `the bytes grow: ${mib.join(" ")}`);
      assert.equal(cap.stdout(), "");
      assert.equal(
        (await stack.client.getBuild(build.id)).status,
        "CREATING",
        "waiting never touches the build",
      );
    } finally {
      await stack.client.deleteBuild(build.id);
    }
  });

  it("rides out a service that answers 503 for a while, and gives up when it goes on too long", async () => {
    const flaky = await flakyFront(stack.url, 3);
    try {
      const cap = captureIo();
      const error = await rejection(
        wait({ url: flaky.url, token: stack.token, io: cap.io, id: failedId, intervalMs: 50 }),
      );
      assert.ok(error instanceof BuildFailedError, String(error));
      assert.match(cap.stderr(), /Service unavailable, retry later; trying again/);
    } finally {
      flaky.server.close();
    }
    const down = await flakyFront(stack.url, 1000);
    try {
      const error = await rejection(
        wait({
          url: down.url,
          token: stack.token,
          io: captureIo().io,
          id: failedId,
          intervalMs: 50,
          patienceMs: 300,
        }),
      );
      assert.equal(describeError(error), "error: Service unavailable, retry later (service_unavailable)");
      assert.equal(exitCodeOf(error), EXIT.failure);
    } finally {
      down.server.close();
    }
  });

  it("exits 4 at once for a build that does not exist", async () => {
    const run = await runCli(["wait", "999999", "--url", stack.url], { ICAAS_TOKEN: stack.token }, [
      stack.token,
    ]);
    assert.equal(run.code, EXIT.notFound);
    assert.equal(run.stderr, "error: Build not found (build_not_found)\n");
  });
});
