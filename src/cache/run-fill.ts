/**
 * The bytes of one cache fill (a run of consecutive blocks) as they arrive from the backend.
 * Readers wait for the bytes they need, not for the whole run: a client asking for the first
 * 64 KiB of a 1 MiB block is answered as soon as those 64 KiB are in, while the rest of the
 * block keeps filling for the cache. Arriving chunks are kept as they are, never copied
 * here: the completed run is joined once, when the cache first reads it. (Fresh memory is what
 * copies cost most on the benchmark VM: page faults, not memcpy.)
 * Pure: the caller pushes chunks in and says when the body ended or failed.
 */
import { BrokenBody, S3Error } from "../s3/errors.ts";

interface Waiter {
  upTo: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** One block of a run: the pieces of it that arrived so far, and promises for a prefix of them. */
export class BlockFill {
  private readonly pieces: Uint8Array[] = [];
  private filled = 0;
  private failure?: { err: unknown };
  private waiters: Waiter[] = [];

  constructor(
    readonly length: number,
    /** The fill this block arrives with. */
    readonly run: RunFill,
  ) {}

  get received(): number {
    return this.filled;
  }

  /** Resolves once the block's first `upTo` bytes are in (the rest may still be arriving). */
  reach(upTo: number): Promise<void> {
    const need = Math.min(upTo, this.length);
    if (this.failure) return Promise.reject(this.failure.err);
    if (this.filled >= need) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ upTo: need, resolve, reject }));
  }

  /** Views of bytes `from` to `to` (exclusive) of the block, which must have arrived. */
  slice(from: number, to: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    let at = 0;
    for (const piece of this.pieces) {
      const end = at + piece.byteLength;
      if (end > from && at < to) out.push(piece.subarray(Math.max(0, from - at), Math.min(piece.byteLength, to - at)));
      at = end;
      if (at >= to) break;
    }
    return out;
  }

  /** The whole block as one buffer (a copy unless it arrived in one piece); once complete. */
  joined(): Uint8Array {
    if (this.pieces.length === 1) return this.pieces[0]!;
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const piece of this.pieces) {
      out.set(piece, at);
      at += piece.byteLength;
    }
    return out;
  }

  /** The pieces that make up the block, in order. */
  get parts(): readonly Uint8Array[] {
    return this.pieces;
  }

  /** Append bytes (never more than the block still lacks); returns true once the block is complete. */
  write(piece: Uint8Array): boolean {
    this.pieces.push(piece);
    this.filled += piece.byteLength;
    if (this.waiters.length > 0) {
      const ready = this.waiters.filter((w) => w.upTo <= this.filled);
      this.waiters = this.waiters.filter((w) => w.upTo > this.filled);
      for (const w of ready) w.resolve();
    }
    return this.filled === this.length;
  }

  /** The fill failed before this block was complete: everyone still waiting gets the error. */
  fail(err: unknown): void {
    if (this.filled === this.length) return;
    this.failure = { err };
    for (const w of this.waiters) w.reject(err);
    this.waiters = [];
  }
}

export interface RunEvents {
  /** The body ended with exactly the run's bytes: every piece, in order. */
  complete(pieces: Uint8Array[]): void;
  /** The run failed; blocks not yet complete never will be. */
  failed(): void;
}

/** A run of blocks filled from one body, in order. */
export class RunFill {
  readonly blocks: BlockFill[];
  /** Resolves once the run completed (its blocks were handed over) or failed; never rejects. */
  readonly settled: Promise<void>;
  private current = 0;
  private done = false;
  private settle!: () => void;

  constructor(
    lengths: readonly number[],
    private readonly events: RunEvents,
  ) {
    this.blocks = lengths.map((n) => new BlockFill(n, this));
    this.settled = new Promise((resolve) => (this.settle = resolve));
  }

  /** Every byte arrived; only the end of the body is still to come. */
  get allArrived(): boolean {
    return this.current === this.blocks.length;
  }

  get expected(): number {
    return this.blocks.reduce((n, b) => n + b.length, 0);
  }

  /** Feed the next bytes of the body. Throws (and fails the run) when the body is longer than the run. */
  push(chunk: Uint8Array): void {
    let rest = chunk;
    while (rest.byteLength > 0) {
      const block = this.blocks[this.current];
      if (!block) {
        const err = new S3Error("BadGateway", `The backend sent more than the ${this.expected} bytes of a cache fill`);
        this.fail(err);
        throw err;
      }
      const take = Math.min(rest.byteLength, block.length - block.received);
      const piece = take === rest.byteLength ? rest : rest.subarray(0, take);
      rest = rest.subarray(take);
      if (block.write(piece)) this.current++;
    }
  }

  /** The body ended; a short body fails the blocks it did not complete. */
  finish(): void {
    if (this.current < this.blocks.length) {
      const received = this.blocks.reduce((n, b) => n + b.received, 0);
      this.fail(new BrokenBody("BadGateway", `The backend sent ${received} bytes for a ${this.expected}-byte cache fill`));
      return;
    }
    this.done = true;
    this.events.complete(this.blocks.flatMap((b) => b.parts));
    this.settle();
  }

  fail(err: unknown): void {
    if (this.done) return;
    this.done = true;
    for (const block of this.blocks) block.fail(err);
    this.events.failed();
    this.settle();
  }
}
