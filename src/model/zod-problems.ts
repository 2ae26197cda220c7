/**
 * @module model/zod-problems
 * A zod validation error as the package's problems: one per issue, with a dotted path
 * (`hazard.bands.frequencies[2]`), so every document (scenario, flow, API request) names its fields the same way.
 */
import type { z } from 'zod';
import type { Problem } from '../errors.js';

/**
 * The problems of `error`; of a union, the alternative that got furthest (fewest problems), not every
 * branch. `root` names a problem of the whole document.
 */
export function zodProblems(error: z.ZodError, root = '(document)'): Problem[] {
  const out: Problem[] = [];
  const walk = (issues: z.core.$ZodIssue[], prefix: (string | number)[]) => {
    for (const issue of issues) {
      const path = [...prefix, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
      if (issue.code === 'invalid_union' && 'errors' in issue && issue.errors.length > 0) {
        walk([...issue.errors].sort((a, b) => a.length - b.length)[0]!, path);
        continue;
      }
      const where = path.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${p}` : p), '');
      out.push({ path: where || root, message: issue.message });
    }
  };
  walk(error.issues, []);
  return out;
}
