/**
 * The bytes of one cache fill (a run of consecutive blocks) as they arrive from the backend.
 * Readers wait for the bytes they need, not for the whole run: a client asking for the first
 * 64 KiB of a 1 MiB block is answered as soon as those 64 KiB are in, while the rest of the
 * block keeps filling for the cache. Each block gets a buffer of its own exact length when
 * its first byte arrives (a chunk that is exactly one whole block is kept as is), so no
 * buffer larger than a block is allocated before the run is complete.
 * Pure: the caller pushes chunks in and says when the body ended or failed.
 */
import { S3Error } from "../s3/errors.ts";

interface Waiter {
  upTo: number;
  resolve: (bytes: Uint8Array) => void;
  reject: (err: unknown) => void;
}

/** One block of a run: its bytes so far, and promises for a prefix of them. */
export class BlockFill {
  private buffer?: Uint8Array;
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

  /** All of the block's bytes, once they are in. */
  get bytes(): Uint8Array | undefined {
    return this.filled === this.length ? this.buffer : undefined;
  }

  /** The block's buffer once its first `upTo` bytes are in (the rest may still be arriving). */
  reach(upTo: number): Promise<Uint8Array> {
    const need = Math.min(upTo, this.length);
    if (this.failure) return Promise.reject(this.failure.err);
    if (this.filled >= need && (this.buffer || need === 0)) return Promise.resolve(this.buffer ?? new Uint8Array(0));
    return new Promise((resolve, reject) => this.waiters.push({ upTo: need, resolve, reject }));
  }

  /** Append bytes (never more than the block still lacks); returns the block's bytes once it is complete. */
  write(chunk: Uint8Array): Uint8Array | undefined {
    if (!this.buffer) {
      // A chunk that is exactly this block and owns its whole buffer is kept without a copy.
      const ownsBuffer = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength;
      this.buffer = chunk.byteLength === this.length && ownsBuffer ? chunk : new Uint8Array(this.length);
    }
    if (this.buffer !== chunk) this.buffer.set(chunk, this.filled);
    this.filled += chunk.byteLength;
    if (this.waiters.length > 0) {
      const ready = this.waiters.filter((w) => w.upTo <= this.filled);
      this.waiters = this.waiters.filter((w) => w.upTo > this.filled);
      for (const w of ready) w.resolve(this.buffer);
    }
    return this.filled === this.length ? this.buffer : undefined;
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
  /** The body ended with exactly the run's bytes: every block, in order. */
  complete(blocks: Uint8Array[]): void;
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
  get received(): boolean {
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
      this.fail(new S3Error("BadGateway", `The backend sent ${received} bytes for a ${this.expected}-byte cache fill`));
      return;
    }
    this.done = true;
    this.events.complete(this.blocks.map((b) => b.bytes!));
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
