/**
 * When and how long to wait before trying a backend request again. Pure: randomness is
 * passed in. Capped exponential backoff with full jitter (AWS's recommendation), retrying
 * connection failures, 500 and 503 (SlowDown) only.
 */

export interface RetryPolicy {
  /** Total attempts, the first included (1 = never retry). */
  attempts: number;
  baseMs: number;
  capMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 3, baseMs: 50, capMs: 2000 };

export function isRetryableStatus(status: number): boolean {
  return status === 500 || status === 503;
}

/** Delay before attempt number `attempt` (1-based: the delay before the 2nd attempt is backoffMs(1)). */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}
