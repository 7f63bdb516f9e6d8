/** @module source-server — serves real image files over HTTP on 127.0.0.1, optionally slowly (to catch a build mid-download). */
import { createReadStream, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

export interface ServedFile {
  path: string;
  /** Throttle the body to about this many bytes per second. */
  bytesPerSecond?: number;
}

export interface SourceServer {
  url: string;
  serve(urlPath: string, file: ServedFile): void;
  close(): Promise<void>;
}

export async function startSourceServer(): Promise<SourceServer> {
  const files = new Map<string, ServedFile>();
  const server: Server = createServer((req, res) => {
    const file = files.get(new URL(req.url ?? "/", "http://x").pathname);
    if (!file) {
      res.writeHead(404, { "content-type": "text/plain" }).end("Not Found\n");
      return;
    }
    const size = statSync(file.path).size;
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(size) });
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    const rate = file.bytesPerSecond;
    const stream = createReadStream(file.path, {
      highWaterMark: rate ? Math.max(1024, Math.floor(rate / 10)) : 65536,
    });
    if (!rate) {
      stream.pipe(res);
      return;
    }
    // Slow on purpose: a chunk every 100 ms.
    void (async () => {
      try {
        for await (const chunk of stream) {
          if (res.destroyed) break;
          res.write(chunk);
          await sleep(100);
        }
        res.end();
      } catch {
        res.destroy();
      } finally {
        stream.destroy();
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    serve(urlPath, file) {
      files.set(urlPath, file);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
