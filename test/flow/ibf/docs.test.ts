/** docs/IBF-FLOW.md documents every field of the flow document (src/flow/ibf/schema.ts), and the CLI it shows. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { IbfFlowSchema } from '../../../src/flow/ibf/schema.js';
import { FLOW_HELP } from '../../../src/flow/ibf/cli-node.js';
import { REPO } from '../../helpers.js';

const DOC = readFileSync(join(REPO, 'docs', 'IBF-FLOW.md'), 'utf8');

/** Dotted paths of every field of a zod object schema, nested objects included (unions and arrays are leaves). */
function fields(schema: unknown, prefix = ''): string[] {
  let s = schema as { _zod: { def: { type: string; innerType?: unknown; shape?: Record<string, unknown> } } };
  while (s._zod.def.type === 'optional' || s._zod.def.type === 'nullable') s = s._zod.def.innerType as typeof s;
  if (s._zod.def.type !== 'object') return [];
  return Object.entries(s._zod.def.shape!).flatMap(([k, v]) => {
    const path = prefix ? `${prefix}.${k}` : k;
    const inner = fields(v, path);
    return inner.length ? inner : [path];
  });
}

it.each(fields(IbfFlowSchema).filter((f) => f !== '$schema'))('documents %s', (field) => {
  const parent = field.slice(0, field.lastIndexOf('.') + 1);
  const leaf = field.slice(field.lastIndexOf('.') + 1);
  const documented = DOC.includes(`\`${field}\``) || DOC.split('\n').some((line) => line.includes(`\`${parent}`) && line.includes(`\`.${leaf}\``));
  expect(documented).toBe(true);
});

it('shows the commands as the CLI has them', () => {
  expect(FLOW_HELP).toContain('ibf flow run <flow.json> [--run-id ID] [--resume]');
  for (const flag of ['--run-id', '--resume', '--date', '--out', '--store', '--workers', '--kernel', '--json']) expect(DOC).toContain(flag);
  expect(DOC).toContain('ibf flow schedule <flow.json>');
});
