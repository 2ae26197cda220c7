/**
 * Clocks: the system clock's real (short) sleeps and aborts, and the ManualClock in both modes.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from '../../src/flow/index.js';

describe('systemClock', () => {
  it('sleeps about as long as asked and rejects with the abort reason', async () => {
    const t = Date.now();
    await systemClock.sleep(5);
    expect(Date.now() - t).toBeGreaterThanOrEqual(4);
    expect(Math.abs(systemClock.now() - Date.now())).toBeLessThan(50);
    const ac = new AbortController();
    const p = systemClock.sleep(10_000, ac.signal);
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    await expect(systemClock.sleep(1, AbortSignal.abort(new Error('already')))).rejects.toThrow('already');
  });
});

describe('ManualClock', () => {
  it('manual mode: time moves only on advance, firing due timers in order', async () => {
    const clock = new ManualClock(new Date(1000), { auto: false });
    const fired: string[] = [];
    void clock.sleep(300).then(() => fired.push(`b@${clock.now()}`));
    void clock.sleep(100).then(() => fired.push(`a@${clock.now()}`));
    void clock.sleep(100).then(() => fired.push(`a2@${clock.now()}`));
    await clock.advance(99);
    expect(fired).toEqual([]);
    expect(clock.pending()).toEqual([1100, 1100, 1300]);
    await clock.advance(250);
    expect(fired).toEqual(['a@1100', 'a2@1100', 'b@1300']);
    expect(clock.now()).toBe(1349);
  });

  it('auto mode: jumps to the next timer once all work waits; an abort removes its timer', async () => {
    const clock = new ManualClock(0);
    const ac = new AbortController();
    const cancelled = clock.sleep(50, ac.signal);
    ac.abort(new Error('no'));
    await expect(cancelled).rejects.toThrow('no');
    await clock.sleep(1_000_000);
    expect(clock.now()).toBe(1_000_000);
    expect(clock.sleeps).toEqual([50, 1_000_000]);
    await expect(clock.sleep(5, AbortSignal.abort(new Error('pre')))).rejects.toThrow('pre');
  });
});
