/** @module testing/source-server — a local HTTP server for image sources: Range, redirects, drops, throttling. */
import { createReadStream, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { LOOPBACK_NETWORKS, parseSourcePolicy } from "@icaas/source-policy";

/**
 * The source server runs on loopback, which the default source policy refuses: a download from it
 * needs this policy, given explicitly.
 */
export const LOOPBACK_SOURCE_POLICY = parseSourcePolicy({ allow: [...LOOPBACK_NETWORKS] });

export interface SourceFile {
  /** A file on disk, streamed (never read whole). */
  path: string;
  /** Close the connection after this many body bytes, the first `dropTimes` times (default once). */
  dropAt?: number;
  dropTimes?: number;
  /** Answer 200 with the whole file even when asked for a Range. */
  ignoreRange?: boolean;
  /** Throttle the body to about this many bytes per second. */
  bytesPerSecond?: number;
  /** Content-Disposition file name. */
  disposition?: string;
  /** Leave out Content-Length (chunked transfer). */
  chunked?: boolean;
}

export interface SourceRequest {
  method: string;
  path: string;
  range: string | undefined;
}

export interface SourceServer {
  url: string;
  /** Serve `file` at `path` (e.g. `/bitnami-foo.zip`). */
  serve(path: string, file: SourceFile): void;
  /** `GET from` answers a 302 to `to` (relative or absolute). */
  redirect(from: string, to: string): void;
  /** Requests seen so far, in order. */
  requests: SourceRequest[];
  /** Bytes of bodies sent so far. */
  bytesSent(): number;
  close(): Promise<void>;
}

/**
 * Starts the server on 127.0.0.1 and a free port. Anything not served answers 404.
 *
 * @example
 * const src = await startSourceServer();
 * src.serve("/image.zip", { path: zipPath, dropAt: 1 << 20 });
 * // download `${src.url}/image.zip` …
 * await src.close();
 */
export async function startSourceServer(): Promise<SourceServer> {
  const files = new Map<string, SourceFile & { drops: number }>();
  const redirects = new Map<string, string>();
  const requests: SourceRequest[] = [];
  let sent = 0;
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    requests.push({ method: req.method ?? "", path, range: req.headers.range });
    const to = redirects.get(path);
    if (to) {
      res.writeHead(302, { location: to, "content-length": "0" }).end();
      return;
    }
    const file = files.get(path);
    if (!file) {
      res.writeHead(404, { "content-type": "text/plain" }).end("Not Found\n");
      return;
    }
    serveFile(req, res, file, (n) => {
      sent += n;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    serve(path, file) {
      files.set(path, { ...file, drops: 0 });
    },
    redirect(from, to) {
      redirects.set(from, to);
    },
    requests,
    bytesSent: () => sent,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function serveFile(
  req: IncomingMessage,
  res: ServerResponse,
  file: SourceFile & { drops: number },
  count: (n: number) => void,
): void {
  const size = statSync(file.path).size;
  let start = 0;
  let end = size - 1;
  let status = 200;
  const headers: Record<string, string> = {
    "content-type": "application/octet-stream",
    "accept-ranges": file.ignoreRange ? "none" : "bytes",
  };
  if (file.disposition) headers["content-disposition"] = `attachment; filename="${file.disposition}"`;
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
  if (range && !file.ignoreRange) {
    start = Number(range[1]);
    if (range[2]) end = Math.min(Number(range[2]), size - 1);
    if (start >= size) {
      res.writeHead(416, { "content-range": `bytes */${size}` }).end();
      return;
    }
    status = 206;
    headers["content-range"] = `bytes ${start}-${end}/${size}`;
  }
  if (!file.chunked) headers["content-length"] = String(end - start + 1);
  res.writeHead(status, headers);
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  const dropNow = file.dropAt !== undefined && file.drops < (file.dropTimes ?? 1);
  if (dropNow) file.drops++;
  // A slow server sends small pieces often (a trickle), not 64 KiB bursts with long pauses.
  const piece = file.bytesPerSecond
    ? Math.max(1, Math.min(64 * 1024, Math.floor(file.bytesPerSecond / 10)))
    : 64 * 1024;
  const stream = createReadStream(file.path, { start, end, highWaterMark: piece });
  let written = 0;
  const began = Date.now();
  stream.on("data", (chunk) => {
    const buf = chunk as Buffer;
    if (dropNow && written + buf.length >= file.dropAt!) {
      const part = buf.subarray(0, Math.max(0, file.dropAt! - written));
      written += part.length;
      count(part.length);
      stream.destroy();
      res.write(part, () => res.socket?.destroy());
      return;
    }
    written += buf.length;
    count(buf.length);
    const more = res.write(buf);
    if (file.bytesPerSecond) {
      const due = (written / file.bytesPerSecond) * 1000 - (Date.now() - began);
      if (due > 0) {
        stream.pause();
        setTimeout(() => stream.resume(), due);
        return;
      }
    }
    if (!more) {
      stream.pause();
      res.once("drain", () => stream.resume());
    }
  });
  stream.on("end", () => res.end());
  stream.on("error", () => res.destroy());
  res.on("close", () => stream.destroy());
}
