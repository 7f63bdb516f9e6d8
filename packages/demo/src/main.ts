/** @module main — `bash scripts/demo.sh` runs this: the demo until Ctrl-C, every failure told on stderr. */
import { startDemo } from "./demo.ts";

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

const demo = await startDemo().catch((error: unknown) => {
  console.error(`demo: could not start: ${message(error)}`);
  process.exit(1);
});
let stopping = false;
const stop = () => {
  // A second Ctrl-C does not wait for the first.
  if (stopping) process.exit(130);
  stopping = true;
  console.log("\nstopping…");
  demo.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`demo: stopping failed: ${message(error)}`);
      process.exit(1);
    },
  );
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
