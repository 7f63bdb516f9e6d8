import assert from "node:assert/strict";
import type { LookupAddress } from "node:dns";
import { it } from "node:test";
import { DEFAULT_SOURCE_POLICY } from "@icaas/source-policy";
import { AgentError } from "../errors.ts";
import { guardedLookup, type Resolver } from "./source-guard.ts";

const answers =
  (...list: string[]): Resolver =>
  async () =>
    list.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));

/** Calls the lookup as net.connect would and collects what it hands back. */
function lookupOf(resolve: Resolver, options: { all?: boolean; family?: number }) {
  const lookup = guardedLookup(DEFAULT_SOURCE_POLICY, new URL("http://files.test/x.img"), resolve);
  return new Promise<{ error: Error | null; result: unknown }>((done) =>
    lookup(
      "files.test",
      options as never,
      (error: Error | null, address: string | LookupAddress[], family?: number) =>
        done({ error, result: Array.isArray(address) ? address : { address, family } }),
    ),
  );
}

it("hands the socket the judged addresses, in the form net.connect asked for", async () => {
  const resolve = answers("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c");
  assert.deepEqual((await lookupOf(resolve, { all: true })).result, [
    { address: "93.184.215.14", family: 4 },
    { address: "2606:2800:21f:cb07:6820:80da:af6b:8b2c", family: 6 },
  ]);
  assert.deepEqual((await lookupOf(resolve, {})).result, { address: "93.184.215.14", family: 4 });
  assert.deepEqual((await lookupOf(resolve, { family: 6 })).result, {
    address: "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
    family: 6,
  });
});

it("refuses the name when any answer is refused, so no socket is ever handed a refused address", async () => {
  const { error } = await lookupOf(answers("93.184.215.14", "169.254.169.254"), { all: true });
  assert.ok(error instanceof AgentError && error.code === "source_refused", String(error));
  assert.match(error.message, /files\.test \(169\.254\.169\.254\) is a metadata address/);
});
