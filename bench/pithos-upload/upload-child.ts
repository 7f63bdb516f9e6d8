/**
 * @module bench/pithos-upload/upload-child — one upload in a process of its own, so its peak RSS and
 * time are the uploader's alone. Prints one JSON line. `PITHOS_FIND_HOLES=0` reads every block.
 * Usage: node --import tsx upload-child.ts <storageUrl> <account> <token> <container> <name> <path>
 */
import { PithosClient } from "@icaas/synnefo";

const [storageUrl, account, token, container, name, path] = process.argv.slice(2);
if (!storageUrl || !account || !token || !container || !name || !path) {
  console.error("usage: upload-child.ts <storageUrl> <account> <token> <container> <name> <path>");
  process.exit(2);
}
const client = new PithosClient({ storageUrl, account, token });
const started = process.hrtime.bigint();
const result = await client.uploadFile(container, name, path, {
  findHoles: process.env.PITHOS_FIND_HOLES !== "0",
});
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
console.log(JSON.stringify({ ...result, seconds, maxRssBytes: process.resourceUsage().maxRSS * 1024 }));
