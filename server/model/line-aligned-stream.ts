/**
 * An event stream's bytes regrouped so that every chunk but the last ends at a line break (LF or CR).
 *
 * The openai SDK joins each network chunk to the bytes it holds and scans them again from the start for the end
 * of a line or event (its `LineDecoder` and `iterSSEChunks`): one event of megabytes — a tool call whose whole
 * arguments came as one delta — arriving in 64 KiB pieces is copied and scanned once per piece, quadratic in the
 * event's size (a 10 MB event: 160 pieces, ≈ 800 MB scanned on the loop every editor shares). Handed whole lines,
 * it scans each byte a bounded number of times. Here each byte is looked at once (`lastIndexOf` over the new
 * piece only) and copied once; the bytes and their order are unchanged, only where chunks split them.
 */
export function lineAligned(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const joined = (): Uint8Array => {
    if (pending.length === 1) return pending[0];
    const bytes = new Uint8Array(pendingBytes);
    let at = 0;
    for (const piece of pending) {
      bytes.set(piece, at);
      at += piece.length;
    }
    return bytes;
  };
  return body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      const end = Math.max(chunk.lastIndexOf(0x0a), chunk.lastIndexOf(0x0d)) + 1;
      if (end === 0) {
        pending.push(chunk);
        pendingBytes += chunk.length;
        return;
      }
      pending.push(chunk.subarray(0, end));
      pendingBytes += end;
      controller.enqueue(joined());
      pending = end < chunk.length ? [chunk.subarray(end)] : [];
      pendingBytes = chunk.length - end;
    },
    flush(controller) {
      if (pendingBytes) controller.enqueue(joined());
    },
  }));
}
