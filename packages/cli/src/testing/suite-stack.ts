/** @module testing/suite-stack — one stack per test suite, with an API client for the demo user. */
import { after, before } from "node:test";
import { IcaasClient } from "../client.ts";
import { type Stack, startStack } from "./stack.ts";

export interface SuiteStack extends Stack {
  /** The API as the demo user. */
  client: IcaasClient;
}

/**
 * A stack started before the calling suite's tests and closed after them. Call it in the suite's
 * body: the object it returns is filled in when `before` runs.
 */
export function suiteStack(options: { agent?: boolean } = {}): SuiteStack {
  const suite = {} as SuiteStack;
  before(async () => {
    const stack = await startStack(options);
    const client = new IcaasClient({ api: `${stack.url}/icaas`, token: stack.token });
    Object.assign(suite, stack, { client });
  });
  after(async () => {
    await suite.close?.();
  });
  return suite;
}
