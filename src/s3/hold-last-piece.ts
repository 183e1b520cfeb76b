/**
 * Pass a request body through while always holding back its last piece until the source
 * has ended and `atEnd` has passed. A check that can only fail at the very end (a payload
 * hash, a final chunk signature, a trailing checksum) then still fails before the consumer,
 * the upstream request, has every byte: the backend never completes the write.
 */
export interface HoldHooks {
  /** Sees every non-empty piece, in order, before it is passed on. */
  onPiece?: (piece: Uint8Array) => void;
  /** Runs once the source has ended; throwing here fails the stream instead of ending it. */
  atEnd?: () => void;
}

export function holdLastPiece(source: ReadableStream<Uint8Array>, hooks: HoldHooks = {}): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let held: Uint8Array | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          hooks.atEnd?.();
          if (held) controller.enqueue(held);
          controller.close();
          return;
        }
        if (value.length === 0) continue;
        hooks.onPiece?.(value);
        const out = held;
        held = value;
        if (out) {
          controller.enqueue(out);
          return;
        }
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}
