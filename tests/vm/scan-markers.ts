/** @module tests/vm/scan-markers — searches a byte stream for many strings at once, in constant memory. */

/**
 * Which of `needles` occur anywhere in `chunks`. Each chunk is searched together with the end of the one
 * before it, so a needle split across chunks is still found.
 */
export async function findNeedles(
  chunks: AsyncIterable<Uint8Array>,
  needles: readonly string[],
): Promise<string[]> {
  const wanted = needles.filter((n) => n.length > 0).map((n) => ({ text: n, bytes: Buffer.from(n) }));
  const overlap = Math.max(0, ...wanted.map((w) => w.bytes.length)) - 1;
  const found = new Set<string>();
  let tail = Buffer.alloc(0);
  for await (const chunk of chunks) {
    const window = Buffer.concat([tail, Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)]);
    for (const w of wanted) if (!found.has(w.text) && window.includes(w.bytes)) found.add(w.text);
    tail = Buffer.from(window.subarray(Math.max(0, window.length - overlap)));
  }
  return wanted.map((w) => w.text).filter((t) => found.has(t));
}
