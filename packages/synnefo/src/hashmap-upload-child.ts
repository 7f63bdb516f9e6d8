/**
 * @module hashmap-upload-child — uploads one file in a process of its own and prints the result with the
 * process' peak RSS, so tests and benchmarks measure the uploader alone.
 * Usage: node --import tsx hashmap-upload-child.ts <storageUrl> <account> <token> <container> <name> <path> [concurrency]
 */
import { PithosClient } from "./pithos.ts";

const [storageUrl, account, token, container, name, path, concurrency] = process.argv.slice(2);
if (!storageUrl || !account || !token || !container || !name || !path) {
  console.error(
    "usage: hashmap-upload-child.ts <storageUrl> <account> <token> <container> <name> <path> [concurrency]",
  );
  process.exit(2);
}
const client = new PithosClient({ storageUrl, account, token });
const started = process.hrtime.bigint();
const result = await client.uploadFile(container, name, path, {
  concurrency: concurrency ? Number(concurrency) : undefined,
});
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
// resourceUsage().maxRSS is in KiB.
const maxRssBytes = process.resourceUsage().maxRSS * 1024;
console.log(JSON.stringify({ ...result, seconds, maxRssBytes }));
