/**
 * @module flow/clock
 * Time as the orchestrator sees it: `now()` for timestamps and cron, `sleep()` for retry delays,
 * timeouts and schedules. Runs take a clock, so tests drive time with {@link ManualClock} instead of
 * waiting for it, and every delay and timestamp they assert is exact.
 */

export interface Clock {
  /** ms since the epoch (UTC). */
  now(): number;
  /** Resolves after `ms` milliseconds; rejects with `signal.reason` when the signal aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

// setTimeout takes at most 2^31 - 1 ms (24.8 days); longer sleeps are cut into such steps.
const MAX_TIMER_MS = 2 ** 31 - 1;

function aborted(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('aborted', 'AbortError');
}

/** Wall-clock time and real timers (any runtime with `setTimeout`). */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    if (signal?.aborted) return Promise.reject(aborted(signal));
    const until = Date.now() + Math.max(0, ms);
    return new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = () => {
        if (timer !== undefined) clearTimeout(timer);
        reject(aborted(signal!));
      };
      const step = () => {
        const left = until - Date.now();
        if (left <= 0) {
          signal?.removeEventListener('abort', onAbort);
          resolve();
          return;
        }
        timer = setTimeout(step, Math.min(left, MAX_TIMER_MS));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      step();
    });
  },
};

interface Timer {
  at: number;
  seq: number;
  fire(): void;
}

export interface ManualClockOptions {
  /**
   * Advance time by itself (default true): whenever every piece of work is waiting on this clock,
   * time jumps to the earliest timer and fires it. "Waiting" is detected with a real zero-delay
   * timer, so work that waits on real I/O in between may see time move early; tests that assert
   * exact times keep their tasks on the clock (`ctx.sleep`) and the store in memory.
   */
  auto?: boolean;
}

/**
 * A clock whose time moves only when timers are due (auto mode) or when {@link ManualClock.advance}
 * is called. Timers due at the same instant fire in the order they were set.
 */
export class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: Timer[] = [];
  private readonly auto: boolean;
  private pumping = false;
  /** Every `sleep` duration asked for, in order (ms). */
  readonly sleeps: number[] = [];

  constructor(start: number | Date = 0, options: ManualClockOptions = {}) {
    this.t = typeof start === 'number' ? start : start.getTime();
    this.auto = options.auto ?? true;
  }

  now(): number {
    return this.t;
  }

  /** Timers still waiting: their due times (ms since the epoch), earliest first. */
  pending(): number[] {
    return this.timers.map((x) => x.at);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    if (signal?.aborted) return Promise.reject(aborted(signal));
    return new Promise<void>((resolve, reject) => {
      const timer: Timer = {
        at: this.t + Math.max(0, ms),
        seq: this.seq++,
        fire: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.timers = this.timers.filter((x) => x !== timer);
        reject(aborted(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.timers.push(timer);
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      if (this.auto) this.pump();
    });
  }

  /** Moves time forward by `ms`, firing the timers due on the way (each after the work before it settled). */
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    for (;;) {
      await settle();
      const next = this.timers[0];
      if (!next || next.at > target) break;
      this.fireDue(next.at);
    }
    this.t = Math.max(this.t, target);
    await settle();
  }

  private fireDue(at: number): void {
    this.t = Math.max(this.t, at);
    const due = this.timers.filter((x) => x.at <= at);
    this.timers = this.timers.filter((x) => x.at > at);
    for (const x of due) x.fire();
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    setTimeout(() => {
      this.pumping = false;
      const next = this.timers[0];
      if (!next) return;
      this.fireDue(next.at);
      if (this.timers.length > 0) this.pump();
    }, 0);
  }
}

/** Lets pending promise callbacks (and zero-delay timers) run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
