/**
 * scripts/audit.mjs sorts `npm audit --omit=dev --json` (report version 2, the shape npm 7 and later
 * print) into explained and unexplained advisories; CI fails on the unexplained ones.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module script without types
import { advisoryId, classify } from '../../scripts/audit.mjs';

/** Two advisories on one package, reported again through a dependent (`via` by name). */
const report = {
  auditReportVersion: 2,
  vulnerabilities: {
    hono: {
      name: 'hono',
      severity: 'high',
      isDirect: true,
      via: [
        { source: 1, name: 'hono', dependency: 'hono', title: 'CORS reflects any origin', url: 'https://github.com/advisories/GHSA-88fw-hqm2-52qc', severity: 'high', range: '<4.12.25' },
        { source: 2, name: 'hono', dependency: 'hono', title: 'Set-Cookie merge', url: 'https://github.com/advisories/GHSA-j6c9-x7qj-28xf', severity: 'moderate', range: '<4.12.25' },
      ],
      effects: ['@hono/zod-openapi'],
      range: '<4.12.25',
      nodes: ['node_modules/hono'],
      fixAvailable: true,
    },
    '@hono/zod-openapi': { name: '@hono/zod-openapi', severity: 'high', isDirect: true, via: ['hono'], effects: [], range: '*', nodes: [], fixAvailable: true },
  },
  metadata: { vulnerabilities: { info: 0, low: 0, moderate: 1, high: 2, critical: 0, total: 3 }, dependencies: { prod: 22, dev: 400, total: 422 } },
};

describe('npm audit classification', () => {
  it('names every advisory once, and only the listed ones count as explained', () => {
    const r = classify(report, [{ id: 'ghsa-j6c9-x7qj-28xf', package: 'hono', why: 'we run on Workers and Node, never on Lambda' }]);
    expect(r.explained.map((a: { id: string }) => a.id)).toEqual(['GHSA-J6C9-X7QJ-28XF']);
    expect(r.explained[0].why).toMatch(/Lambda/);
    expect(r.unexplained).toEqual([
      { id: 'GHSA-88FW-HQM2-52QC', package: 'hono', severity: 'high', title: 'CORS reflects any origin', range: '<4.12.25', url: 'https://github.com/advisories/GHSA-88fw-hqm2-52qc' },
    ]);
  });

  it('a clean report has nothing to explain', () => {
    expect(classify({ auditReportVersion: 2, vulnerabilities: {}, metadata: {} }, [])).toEqual({ explained: [], unexplained: [] });
  });

  it('an npm error (the endpoint refused) is not a clean report', () => {
    expect(classify({ message: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk', statusCode: 405 }, [])).toBeNull();
    expect(classify(undefined, [])).toBeNull();
  });

  it('reads GHSA ids out of advisory URLs', () => {
    expect(advisoryId('https://github.com/advisories/GHSA-48c2-rrv3-qjmp')).toBe('GHSA-48C2-RRV3-QJMP');
    expect(advisoryId('https://example.org/x')).toBe('https://example.org/x');
  });

  it('the explained list in docs is well formed', () => {
    const doc = JSON.parse(readFileSync(new URL('../../docs/audit-explained.json', import.meta.url), 'utf8'));
    expect(Array.isArray(doc.explained)).toBe(true);
    for (const e of doc.explained) {
      expect(e.id).toMatch(/^GHSA(-[23456789cfghjmpqrvwx]{4}){3}$/i);
      expect(typeof e.why).toBe('string');
      expect(e.why.length).toBeGreaterThan(20);
    }
  });
});
