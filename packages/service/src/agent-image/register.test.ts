import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { DEMO_TOKEN, DEMO_USER_UUID, type Devcloud, defaultConfig, startDevcloud } from "@icaas/devcloud";
import { PlanktonClient } from "@icaas/synnefo";
import { writeDiskLikeFile } from "@icaas/synnefo/testing";
import { TOKEN_ENV } from "./command.ts";
import { registerAgentImage } from "./register.ts";

const BIN = fileURLToPath(new URL("../../bin/icaas-service.mjs", import.meta.url));
const OTHER_TOKEN = "other-token-0123456789abcdefghijklmnopqrstu";

function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("icaas-service agent-image register against devcloud", () => {
  let dir: string;
  let cloud: Devcloud;
  let file: string;
  const blocksReceived = () => cloud.counters.get("pithos.blocksReceived");

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "icaas-agent-image-"));
    const config = defaultConfig();
    config.users.push({
      uuid: "9a1c7e52-0d3b-4f6e-8a2d-5b7c9e1f3a4d",
      name: "other@example.org",
      token: OTHER_TOKEN,
    });
    cloud = await startDevcloud({ dataDir: join(dir, "cloud"), config });
    file = join(dir, "icaas-agent.raw");
    // 6 blocks of 4 MiB of every kind (data, zero, hole) and a tail: a tiny stand-in for the raw image.
    await writeDiskLikeFile(file, { blocks: 6, zeroTailBytes: 4096, extraTailBytes: 1000 });
  });
  after(async () => {
    await cloud.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("uploads, registers a public diskdump with snf-image's properties; again: same id, no block sent", async () => {
    const options = { authUrl: cloud.authUrl, token: DEMO_TOKEN, file };
    const first = await registerAgentImage(options);
    assert.equal(first.reused, false);
    assert.ok((first.upload?.blocksSent ?? 0) > 0, "the first run sends the blocks");
    assert.equal(first.location, `pithos://${DEMO_USER_UUID}/images/icaas-agent.raw`);

    // Another user sees it (public) as Cyclades would deploy it.
    const other = new PlanktonClient({ imageUrl: `${cloud.url}/image/v1.0`, token: OTHER_TOKEN });
    const seen = (await other.list({ detail: true })).find((i) => i.id === first.imageId);
    assert.ok(seen, "the image is visible to another user");
    assert.equal(seen.isPublic, true);
    assert.equal(seen.diskFormat, "diskdump");
    assert.equal(seen.checksum, first.hash);
    assert.equal(seen.name, "ICaaS agent (Debian 12)");
    assert.equal(seen.properties.osfamily, "linux");
    assert.equal(seen.properties.os, "debian");
    assert.equal(seen.properties.osversion, "12");
    assert.equal(seen.properties.root_partition, "1");
    assert.equal(seen.properties.users, "root");
    assert.match(seen.properties.description ?? "", /ICaaS agent/);

    const before = blocksReceived();
    const puts = cloud.counters.get("pithos.hashmapPuts");
    const second = await registerAgentImage(options);
    assert.equal(second.imageId, first.imageId);
    assert.equal(second.reused, true);
    assert.equal(blocksReceived(), before, "no block sent again");
    assert.equal(cloud.counters.get("pithos.hashmapPuts"), puts, "the object is not written again");
  });

  test("a rebuilt image at the same place: only its changed blocks are sent, the image's checksum follows", async () => {
    const rebuilt = join(dir, "rebuilt.raw");
    await writeDiskLikeFile(rebuilt, { blocks: 6, zeroTailBytes: 4096, extraTailBytes: 1000 });
    const options = { authUrl: cloud.authUrl, token: DEMO_TOKEN, file: rebuilt, object: "agent.raw" };
    const first = await registerAgentImage(options);
    const fh = await open(rebuilt, "r+");
    await fh.write(Buffer.from("a new agent bundle"), 0, undefined, 0);
    await fh.close();
    const second = await registerAgentImage(options);
    assert.equal(second.reused, false);
    assert.equal(second.upload?.blocksSent, 1, "only the changed block");
    assert.notEqual(second.hash, first.hash);
    const image = await new PlanktonClient({ imageUrl: `${cloud.url}/image/v1.0`, token: DEMO_TOKEN }).head(
      second.imageId,
    );
    assert.equal(image.checksum, second.hash);
  });

  test("the command prints the image id and the agentImageId line; without a token it says what is missing", async () => {
    const env = { ...process.env, ICAAS_AUTH_URL: cloud.authUrl, [TOKEN_ENV]: DEMO_TOKEN };
    const ok = await runCli(["agent-image", "register", file], env);
    assert.equal(ok.code, 0, ok.stderr);
    const id = /^image id: (\S+)$/m.exec(ok.stdout)?.[1];
    assert.ok(id, ok.stdout);
    assert.match(ok.stdout, new RegExp(`^ {2}"agentImageId": "${id}"$`, "m"));
    assert.match(ok.stdout, /nothing sent/);

    const tokenFile = join(dir, "token");
    await writeFile(tokenFile, `${DEMO_TOKEN}\n`, { mode: 0o600 });
    const json = await runCli(["agent-image", "register", file, "--token-file", tokenFile, "--json"], {
      ...env,
      [TOKEN_ENV]: "",
    });
    assert.equal(json.code, 0, json.stderr);
    assert.equal(JSON.parse(json.stdout).imageId, id);

    const missing = await runCli(["agent-image", "register", file], { ...env, [TOKEN_ENV]: "" });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /a token is required \(--token-file FILE or ICAAS_AGENT_IMAGE_TOKEN\)/);
    assert.doesNotMatch(missing.stderr + missing.stdout, new RegExp(DEMO_TOKEN));
  });
});
