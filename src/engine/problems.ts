/**
 * @module engine/problems
 * Collects the failures of independent validation steps, so a user sees every problem of a run at
 * once (a missing exposure file and a curve in the wrong unit, say) instead of one per attempt.
 */
import { IbfError, type Problem } from '../errors.js';

export class ProblemCollector {
  private readonly errors: Array<{ area: string; error: IbfError; order: number }> = [];
  private calls = 0;

  /**
   * Runs `fn`; an IbfError is recorded under `area` and gives undefined. Other errors propagate.
   * Problems are reported in the order of the `attempt` calls, not the order they failed in (which
   * depends on I/O timing when attempts run concurrently).
   */
  async attempt<T>(area: string, fn: () => Promise<T> | T): Promise<T | undefined> {
    const order = this.calls++;
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof IbfError)) throw e;
      this.errors.push({ area, error: e, order });
      return undefined;
    }
  }

  get count(): number {
    return this.errors.length;
  }

  /**
   * Throws what was collected: a single error as it is (keeping its specific code), several as one
   * `E_SCENARIO_INVALID` whose problems name the area and the original code of each.
   */
  throwIfAny(): void {
    if (this.errors.length === 0) return;
    this.errors.sort((a, b) => a.order - b.order);
    if (this.errors.length === 1) throw this.errors[0]!.error;
    const problems: Problem[] = [];
    const hints = new Set<string>();
    for (const { area, error } of this.errors) {
      hints.add(error.hint);
      if (error.problems?.length) {
        for (const p of error.problems) problems.push({ path: p.path.startsWith(area) ? p.path : `${area}: ${p.path}`, message: `[${error.code}] ${p.message}` });
      } else {
        problems.push({ path: area, message: `[${error.code}] ${error.message}` });
      }
    }
    throw IbfError.fromProblems('E_SCENARIO_INVALID', 'the scenario cannot run', problems, [...hints].join(' '));
  }
}
