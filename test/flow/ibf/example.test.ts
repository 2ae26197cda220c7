/**
 * examples/ibf-flow runs as its README says: the flow file unchanged, beside the demo's generated rasters
 * (here a copy of the examples layout in a temp folder, with the demo's forecast and exposure made by the
 * demo's generator and spec, as `prepareDemo` makes them, less the return-period maps the flow does not
 * read), and its per-lead-time assessments give the demo's own trigger table (README.md "Demo").
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { demoDir } from '../../../src/demo/index.js';
import { writeDemoRasters } from './demo-fixture.js';
import { loadIbfFlowFile, runIbfFlowFile } from '../../../src/flow/ibf/run-node.js';
import type { AlertSummary } from '../../../src/flow/ibf/alerts.js';
import { loadKernel } from '../../../src/kernels/load-node.js';
import { REPO, tempDir } from '../../helpers.js';

const EXAMPLE = join(REPO, 'examples', 'ibf-flow', 'flow.json');
const root = tempDir('ibf-flow-example-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

it('the example flow is valid and is the demo forecast: its trigger, members and lead times', async () => {
  const { config } = await loadIbfFlowFile(EXAMPLE);
  const demo = JSON.parse(readFileSync(join(demoDir(), 'scenario.json'), 'utf8'));
  expect(config.trigger).toEqual(demo.trigger);
  expect(config.forecast.leadTimes).toEqual(demo.hazard.bands.leadTimes);
  expect(config.forecast.members).toBe(demo.hazard.bands.members);
  expect(config.publish?.ibfSystem?.endpoint).toBeUndefined(); // never hard-coded
});

it('runs beside the generated demo and reproduces the demo trigger table', async () => {
  mkdirSync(join(root, 'ibf-flow'), { recursive: true });
  copyFileSync(EXAMPLE, join(root, 'ibf-flow', 'flow.json'));
  mkdirSync(join(root, 'ibf-demo'), { recursive: true });
  copyFileSync(join(demoDir(), 'zones.geojson'), join(root, 'ibf-demo', 'zones.geojson'));
  const kernel = await loadKernel();
  writeDemoRasters(join(root, 'ibf-demo', 'generated'));
  const o = await runIbfFlowFile(join(root, 'ibf-flow', 'flow.json'), { kernel, date: '2019-03-14', workers: 2 });
  expect(o.run.status).toBe('Completed');
  const alerts = o.run.results.trigger as AlertSummary;
  const table = Object.fromEntries(alerts.zones.map((z) => [z.id, z.leadTimes.map((l) => `${l.triggered ? 'YES' : 'no'} ${l.alertLevel} ${l.probability.toFixed(2)}`).join(' | ')]));
  // README.md "Demo", the trigger columns
  expect(table).toEqual({
    BWA: 'no none 0.00 | no none 0.00 | no none 0.00',
    MOZ: 'YES medium 1.00 | YES high 1.00 | YES high 1.00',
    MWI: 'YES medium 0.84 | YES medium 0.94 | YES medium 0.92',
    SWZ: 'no none 0.00 | no none 0.00 | no none 0.00',
    ZMB: 'no none 0.00 | no low 0.10 | no low 0.37',
    ZWE: 'no low 0.00 | no low 0.24 | no low 0.49',
  });
  expect(readFileSync(join(root, 'ibf-flow', 'out', '2019-03-14', 'ibf-system', 'requests.json'), 'utf8')).toContain('"path": "event/alerts-per-lead-time"');
}, 120_000);
