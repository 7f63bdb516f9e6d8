/** @module download/download — fetches the source image to disk: redirects, Range resume, retries, caps, checksum. */
import { createHash, type Hash } from "node:crypto";
import { type FileHandle, open } from "node:fs/promises";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { SourcePolicy } from "@icaas/source-policy";
import { AgentError, abortError, agentErrors } from "../errors.ts";
import type { Manifest } from "../manifest.ts";
import { BodyTap } from "./body-tap.ts";
import { checkLiteralHost, guardedLookup, type Resolver, systemResolver } from "./source-guard.ts";
import { DEFAULT_THROUGHPUT, ThroughputGuard, type ThroughputRule } from "./throughput-guard.ts";

export interface DownloadOptions {
  url: string;
  /** The file is written here, named after the URL (or Content-Disposition). */
  destDir: string;
  /** Refuse anything bigger (announced or counted). */
  maxBytes: number;
  checksum?: Manifest["image"]["checksum"];
  signal?: AbortSignal;
  onProgress?: (done: number, total: number | undefined) => void;
  log?: (message: string) => void;
  /** Failed attempts in a row (no byte received) before giving up. Default 5. */
  retries?: number;
  /** First delay between attempts; doubles each time. Default 1000 ms. */
  backoffMs?: number;
  /** A connection silent this long is dropped and resumed. Default 60 s. */
  idleTimeoutMs?: number;
  /** A connection under this rate over a window is dropped and resumed. Default 32 KiB/s over 60 s. */
  throughput?: ThroughputRule;
  /** Slow connections in a row (none with a good window) before `download_too_slow`. Default 3. */
  slowRetries?: number;
  maxRedirects?: number;
  /** Where the source may point; judged on the address of every connection, redirects included. */
  policy: SourcePolicy;
  /** DNS for source host names; default the system's. */
  resolve?: Resolver;
  /** Given every batch of bytes once it is written, in file order (a streaming decoder). */
  tee?: (chunks: Buffer[]) => Promise<void>;
  /** The file starts over from byte 0 (a server that cannot resume): what `tee` got is void. */
  onRestart?: () => void;
}

export interface DownloadResult {
  path: string;
  fileName: string;
  bytes: number;
  /** sha256 of the whole file, hex. */
  sha256: string;
  /** How many times the transfer resumed after a dropped connection. */
  resumes: number;
  /** The URL the bytes came from, after redirects. */
  finalUrl: string;
  contentType: string | undefined;
}

const WRITE_BATCH = 1 << 20;

/**
 * Streams `url` to a file (never holding it in memory). A dropped connection resumes with `Range`
 * from the last byte written; a server that ignores Range makes it start over. Failures are
 * `AgentError`s: `download_not_found`, `download_too_large`, `checksum_mismatch`, `download_failed`,
 * `source_refused` (the policy refuses the address a connection would go to; never retried),
 * `download_too_slow` (connections under `throughput` over a window, `slowRetries` times in a row).
 *
 * @example
 * const r = await download({ url, destDir: work, maxBytes: 20 * 2 ** 30, policy: manifest.source, signal });
 */
export async function download(options: DownloadOptions): Promise<DownloadResult> {
  const { signal, maxBytes } = options;
  const retries = options.retries ?? 5;
  const backoff = options.backoffMs ?? 1000;
  const log = options.log ?? (() => {});
  const source = new URL(options.url);
  let currentUrl = source;
  let redirects = 0;
  // The file is opened at the first good answer, named after the URL it came from.
  let fileName = fileNameFromUrl(source);
  let path = join(options.destDir, fileName);
  let fh: FileHandle | undefined;
  let have = 0;
  let total: number | undefined;
  let sha256 = createHash("sha256");
  let extra: Hash | undefined = extraHash(options.checksum);
  let failures = 0;
  let resumes = 0;
  let contentType: string | undefined;
  const throughput = options.throughput ?? DEFAULT_THROUGHPUT;
  const slowRetries = options.slowRetries ?? 3;
  let slowDrops = 0;
  let guard: ThroughputGuard | undefined;
  let currentTap: BodyTap | undefined;

  /** A connection the guard dropped: resume at once, unless the source has been slow too often. */
  const droppedAsSlow = (why: string, attempt: ThroughputGuard) => {
    slowDrops = attempt.hadGoodWindow ? 1 : slowDrops + 1;
    if (slowDrops > slowRetries) {
      throw agentErrors.downloadTooSlow(why, slowDrops);
    }
    log(`${why}; reconnecting (${slowDrops} of ${slowRetries})`);
  };

  const restart = async (why: string) => {
    // A server that keeps answering nonsense to Range must not keep us going round.
    if (++failures > retries) throw agentErrors.downloadFailed(why);
    log(`${why}; starting the download over`);
    options.onRestart?.();
    await fh?.truncate(0);
    have = 0;
    sha256 = createHash("sha256");
    extra = extraHash(options.checksum);
  };

  try {
    for (;;) {
      if (signal?.aborted) throw abortError(signal, "download");
      checkLiteralHost(options.policy, currentUrl);
      const before = have;
      let res: IncomingMessage;
      let tap: BodyTap;
      guard?.stop();
      currentTap = undefined;
      const attempt = new ThroughputGuard(throughput, () => ({
        received: currentTap?.received ?? 0,
        paused: currentTap?.paused ?? false,
      }));
      guard = attempt;
      try {
        [res, tap] = await get(currentUrl, have > 0 ? { range: `bytes=${have}-` } : {}, {
          idleTimeoutMs: options.idleTimeoutMs,
          signal,
          lookup: guardedLookup(options.policy, currentUrl, options.resolve ?? systemResolver),
          guard: attempt,
        });
        currentTap = tap;
      } catch (error) {
        if (signal?.aborted) throw abortError(signal, "download");
        if (error instanceof AgentError && error.code === "source_refused") throw error;
        if (attempt.tripped) {
          droppedAsSlow(attempt.tripped, attempt);
          continue;
        }
        failures++;
        if (failures > retries)
          throw agentErrors.downloadFailed(
            `cannot reach ${currentUrl.host}: ${(error as Error).message}`,
            error,
          );
        log(`cannot reach ${currentUrl.host} (${(error as Error).message}); retry ${failures} of ${retries}`);
        await sleep(backoff * 2 ** (failures - 1), undefined, { signal }).catch(() => {});
        continue;
      }
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        tap.destroy();
        if (++redirects > (options.maxRedirects ?? 10))
          throw agentErrors.downloadFailed("too many redirects");
        const next = new URL(res.headers.location, currentUrl);
        if (next.protocol !== "http:" && next.protocol !== "https:") {
          throw agentErrors.downloadFailed(`redirected to an unsupported URL scheme ${next.protocol}`);
        }
        log(`redirected to ${next.origin}${next.pathname}`);
        currentUrl = next;
        continue;
      }
      if (status === 404 || status === 410) {
        tap.destroy();
        throw agentErrors.downloadNotFound(status);
      }
      if (status === 416 && have > 0 && total !== undefined && have === total) {
        tap.destroy();
        break;
      }
      if (status === 416) {
        tap.destroy();
        await restart("the server refused to resume (416)");
        continue;
      }
      if (status === 401 || status === 403) {
        tap.destroy();
        throw agentErrors.downloadFailed(
          `the server refused access to the image (HTTP ${status})`,
          undefined,
          "The image URL must be downloadable without credentials",
        );
      }
      if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
        tap.destroy();
        throw agentErrors.downloadFailed(`the server answered HTTP ${status}`);
      }
      if (status >= 400 || (status !== 200 && status !== 206)) {
        tap.destroy();
        failures++;
        if (failures > retries) throw agentErrors.downloadFailed(`the server answered HTTP ${status}`);
        log(`the server answered HTTP ${status}; retry ${failures} of ${retries}`);
        await sleep(backoff * 2 ** (failures - 1), undefined, { signal }).catch(() => {});
        continue;
      }
      if (!fh) {
        fileName = fileNameFromDisposition(res.headers["content-disposition"]) ?? fileNameFromUrl(currentUrl);
        path = join(options.destDir, fileName);
        fh = await open(path, "w");
      }
      const file = fh;
      if (status === 200) {
        if (have > 0) await restart("the server does not support resuming (it sent the whole file)");
        const length = Number(res.headers["content-length"]);
        total = Number.isFinite(length) && res.headers["content-length"] !== undefined ? length : undefined;
      } else {
        const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(res.headers["content-range"] ?? ""));
        if (!range || Number(range[1]) !== have) {
          tap.destroy();
          await restart("the server resumed at the wrong offset");
          continue;
        }
        if (range[3] !== "*") total = Number(range[3]);
        resumes++;
        log(`resuming at byte ${have}${total ? ` of ${total}` : ""}`);
      }
      contentType = res.headers["content-type"];
      if (total !== undefined && total > maxBytes) {
        tap.destroy();
        throw agentErrors.downloadTooLarge(total, maxBytes);
      }
      options.onProgress?.(have, total);

      let batch: Buffer[] = [];
      let batchBytes = 0;
      let flushedAt = Date.now();
      const flush = async () => {
        flushedAt = Date.now();
        if (batchBytes === 0) return;
        const chunks = batch;
        const size = batchBytes;
        batch = [];
        batchBytes = 0;
        await file.writev(chunks, have);
        for (const c of chunks) {
          sha256.update(c);
          extra?.update(c);
        }
        have += size;
        await options.tee?.(chunks);
        options.onProgress?.(have, total);
      };
      for (let chunks = await tap.take(); chunks; chunks = await tap.take()) {
        for (const chunk of chunks) {
          if (have + batchBytes + chunk.length > maxBytes) {
            tap.destroy();
            throw agentErrors.downloadTooLarge(have + batchBytes + chunk.length, maxBytes);
          }
          batch.push(chunk);
          batchBytes += chunk.length;
        }
        // Progress counts what arrived: on a slow link a write batch takes seconds to fill.
        options.onProgress?.(have + batchBytes, total);
        // Written by size, or by time so a slow source's bytes are on disk for a resume.
        if (batchBytes >= WRITE_BATCH || Date.now() - flushedAt >= 1000) await flush();
      }
      attempt.stop();
      const dropped = tap.error;
      // Bytes that arrived before a drop are good: keep them and resume after them.
      await flush();
      if (signal?.aborted) throw abortError(signal, "download");
      let lost = dropped;
      if (lost === undefined && total !== undefined && have < total)
        lost = new Error("connection closed early");
      if (lost === undefined && total !== undefined && have > total) {
        throw agentErrors.downloadFailed(
          `the server sent ${have} bytes, more than the ${total} it announced`,
        );
      }
      if (lost === undefined) break;
      if (attempt.tripped) {
        droppedAsSlow(attempt.tripped, attempt);
        continue;
      }
      failures = have > before ? 1 : failures + 1;
      const why = (lost as Error).message;
      if (failures > retries)
        throw agentErrors.downloadFailed(`the connection dropped at byte ${have}: ${why}`, lost);
      log(`the connection dropped at byte ${have} (${why}); resuming`);
      await sleep(backoff * 2 ** (failures - 1), undefined, { signal }).catch(() => {});
    }
  } finally {
    guard?.stop();
    await fh?.close();
  }
  if (!fh) throw agentErrors.downloadFailed("no answer");
  const digest = sha256.digest("hex");
  const check = options.checksum;
  if (check) {
    const actual = check.algorithm === "sha256" ? digest : extra!.digest("hex");
    if (actual !== check.hex) {
      throw agentErrors.checksumMismatch(check.algorithm, actual, check.hex);
    }
    log(`${check.algorithm} checksum verified`);
  }
  return { path, fileName, bytes: have, sha256: digest, resumes, finalUrl: currentUrl.href, contentType };
}

function extraHash(checksum: DownloadOptions["checksum"]): Hash | undefined {
  return checksum && checksum.algorithm !== "sha256" ? createHash(checksum.algorithm) : undefined;
}

function get(
  url: URL,
  headers: Record<string, string>,
  options: {
    idleTimeoutMs: number | undefined;
    signal: AbortSignal | undefined;
    lookup: LookupFunction;
    guard: ThroughputGuard;
  },
): Promise<[IncomingMessage, BodyTap]> {
  const { idleTimeoutMs, signal } = options;
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: "GET",
        headers: { "user-agent": "icaas-agent", "accept-encoding": "identity", ...headers },
        signal,
        lookup: options.lookup,
        // A fresh connection each time: a pooled socket would skip the lookup that judges the address.
        agent: false,
      },
      // Tapped at once: bytes that arrive while the caller opens its file must not be lost.
      (res) => resolve([res, new BodyTap(res)]),
    );
    const idle = idleTimeoutMs ?? 60_000;
    req.setTimeout(idle, () => req.destroy(new Error(`no data for ${Math.round(idle / 1000)} s`)));
    // From the request on: headers trickled byte by byte are as slow as a trickled body.
    options.guard.start((error) => req.destroy(error));
    req.on("error", reject);
    req.end();
  });
}

/** A safe local file name: the URL's last path segment, or `download`. */
export function fileNameFromUrl(url: URL): string {
  let base = url.pathname.split("/").filter(Boolean).pop() ?? "";
  try {
    base = decodeURIComponent(base);
  } catch {
    // Keep the raw segment.
  }
  return safeName(base);
}

function fileNameFromDisposition(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const star = /filename\*=(?:UTF-8'')?([^;]+)/i.exec(header);
  const plain = /filename="?([^";]+)"?/i.exec(header);
  let name = star?.[1] ?? plain?.[1];
  if (!name) return undefined;
  try {
    name = decodeURIComponent(name);
  } catch {
    // Keep it as sent.
  }
  return safeName(name.split(/[\\/]/).pop() ?? "");
}

function safeName(name: string): string {
  const cleaned = name
    .replace(/[^A-Za-z0-9._+-]/g, "_")
    .replace(/^\.+/, "")
    .slice(-200);
  return cleaned || "download";
}
