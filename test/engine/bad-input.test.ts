/**
 * Bad input (issue #2 section 6): each case ends in an IbfError with a code and a message that says
 * what to fix, a non-zero CLI exit without a stack trace, and no output files left behind (an earlier
 * result in the output folder stays as it was).
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IbfError } from '../../src/errors.js';
import { loadKernel } from '../../src/kernels/load-node.js';
import { runScenarioFile } from '../../src/node/run-scenario.js';
import { main } from '../../src/cli/main.js';
import { FIAT, listFiles, tempDir, writeJson, writeTif } from '../helpers.js';

const base = {
  hazard: { source: 'event_map.tif', unit: 'm' },
  exposure: { source: 'exposure_max_damage.tif', unit: 'EUR' },
  vulnerability: { csv: 'vulnerability_curves.csv', column: 'struct_1' },
};

function setup(doc: unknown, edit?: (dir: string) => void): { dir: string; scenario: string } {
  const dir = tempDir();
  for (const f of ['event_map.tif', 'exposure_max_damage.tif', 'vulnerability_curves.csv']) copyFileSync(join(FIAT, f), join(dir, f));
  edit?.(dir);
  writeJson(join(dir, 'scenario.json'), doc);
  return { dir, scenario: join(dir, 'scenario.json') };
}

async function failure(scenario: string): Promise<IbfError> {
  const out = tempDir();
  writeFileSync(join(out, 'result.json'), 'earlier result');
  const kernel = await loadKernel();
  let err: unknown;
  try {
    await runScenarioFile(scenario, { kernel, outDir: out });
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(IbfError);
  // nothing written, nothing staged, the earlier result untouched
  expect(listFiles(out)).toEqual(['result.json']);
  expect(readFileSync(join(out, 'result.json'), 'utf8')).toBe('earlier result');
  // the CLI says the same without a stack trace and exits 2
  const io = { out: '', err: '' };
  const status = await main(['assess', scenario, '--out', out], { out: (s) => (io.out += s), err: (s) => (io.err += s), isTTY: false });
  expect(status).toBe(2);
  expect(io.err).toMatch(/^error \[E_[A-Z_]+\]: /);
  expect(io.err).toContain('hint: ');
  expect(io.err).not.toMatch(/\n\s+at /);
  expect(listFiles(out)).toEqual(['result.json']);
  return err as IbfError;
}

describe('bad input', () => {
  it('a missing hazard file names the path', async () => {
    const { scenario } = setup({ ...base, hazard: { source: 'nope.tif', unit: 'm' } });
    const e = await failure(scenario);
    expect(e.code).toBe('E_INPUT_NOT_FOUND');
    expect(e.message).toContain('nope.tif');
  });

  it('a missing scenario file', async () => {
    const e = await failure(join(tempDir(), 'absent.json'));
    expect(e.code).toBe('E_INPUT_NOT_FOUND');
  });

  it('a scenario that is not JSON', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 's.json'), '{ "hazard": ');
    const e = await failure(join(dir, 's.json'));
    expect(e.code).toBe('E_INPUT_FORMAT');
  });

  it('non-GeoTIFF bytes', async () => {
    const { scenario } = setup(base, (dir) => writeFileSync(join(dir, 'event_map.tif'), 'this is not a tiff'));
    const e = await failure(scenario);
    expect(e.code).toBe('E_TIFF_INVALID');
    expect(e.message).toContain('event_map.tif');
  });

  it('a truncated TIFF', async () => {
    const { scenario } = setup(base, (dir) => {
      const bytes = readFileSync(join(FIAT, 'exposure_max_damage.tif'));
      writeFileSync(join(dir, 'exposure_max_damage.tif'), bytes.subarray(0, Math.floor(bytes.length / 2)));
    });
    const e = await failure(scenario);
    expect(e.code).toBe('E_TIFF_INVALID');
  });

  it('a hazard in a CRS we cannot transform', async () => {
    const { scenario } = setup(base, (dir) => {
      writeTif(join(dir, 'event_map.tif'), { width: 10, height: 10, transform: [500000, 100, 0, 200000, 0, -100], crs: 'EPSG:27700' }, [new Float32Array(100).fill(1)]);
    });
    const e = await failure(scenario);
    expect(e.code).toBe('E_CRS_UNKNOWN');
    expect(e.message).toContain('EPSG:27700');
  });

  it('a curve with NaN', async () => {
    const { scenario } = setup(base, (dir) => {
      const csv = readFileSync(join(FIAT, 'vulnerability_curves.csv'), 'utf8').replace('1.5,0.25,0.37', '1.5,nan,0.37');
      writeFileSync(join(dir, 'vulnerability_curves.csv'), csv);
    });
    const e = await failure(scenario);
    expect(e.code).toBe('E_CURVE_INVALID');
    expect(e.message).toMatch(/NaN/);
  });

  it('an unknown catalog id names what exists', async () => {
    const { scenario } = setup({ ...base, vulnerability: 'jrc-flood-africa-commercial' });
    const e = await failure(scenario);
    expect(e.code).toBe('E_CATALOG_UNKNOWN');
    expect(e.message).toContain('jrc-flood-africa-residential');
  });

  it('an invalid scenario lists all its problems at once', async () => {
    const { scenario } = setup({ hazard: { source: 'event_map.tif' }, exposure: { source: 'x.tif', unit: 'EUR', colour: 'red' }, vulnerability: { intensity: [0, 1], mdd: [0, 2], unit: 'm' }, affectedTreshold: 1 });
    const e = await failure(scenario);
    expect(e.code).toBe('E_SCENARIO_INVALID');
    const paths = e.problems!.map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['hazard.unit', 'exposure']));
    expect(e.message).toContain('affectedTreshold');
  });

  it('a curve with mdd outside [0, 1] and decreasing intensity lists both', async () => {
    const { scenario } = setup({ ...base, vulnerability: { intensity: [0, 2, 1], mdd: [0, 50, 1], unit: 'm' } });
    const e = await failure(scenario);
    expect(e.code).toBe('E_CURVE_INVALID');
    expect(e.problems!.map((p) => p.path).sort()).toEqual(['intensity[2]', 'mdd[1]']);
  });

  it('a curve whose unit cannot apply to the hazard', async () => {
    const { scenario } = setup({ ...base, vulnerability: 'emanuel-usa' });
    const e = await failure(scenario);
    expect(e.code).toBe('E_UNIT_MISMATCH');
  });

  it('a multi-band hazard declared as one event', async () => {
    const { scenario } = setup({ ...base, hazard: { source: 'risk.tif', unit: 'm' } }, (dir) => copyFileSync(join(FIAT, 'risk_map_rp2_5_10_25.tif'), join(dir, 'risk.tif')));
    const e = await failure(scenario);
    expect(e.code).toBe('E_SCENARIO_INVALID');
    expect(e.message).toContain('4 bands');
  });

  it('problems in several inputs come together in one error', async () => {
    const { scenario } = setup({ ...base, exposure: { source: 'gone.tif', unit: 'EUR' }, vulnerability: 'emanuel-usa' }, (dir) => {
      writeTif(join(dir, 'event_map.tif'), { width: 3, height: 3, transform: [0, 1, 0, 3, 0, -1], crs: 'EPSG:4326' }, [new Float32Array(9)]);
    });
    const e = await failure(scenario);
    expect(e.code).toBe('E_SCENARIO_INVALID');
    expect(e.problems!.map((p) => p.path)).toEqual(['exposure', 'vulnerability']);
    expect(e.message).toContain('[E_INPUT_NOT_FOUND]');
    expect(e.message).toContain('[E_UNIT_MISMATCH]');
  });

  it('an unknown CRS and a wrong unit are reported together', async () => {
    const { scenario } = setup({ ...base, vulnerability: 'emanuel-usa' }, (dir) => {
      writeTif(join(dir, 'event_map.tif'), { width: 3, height: 3, transform: [0, 1, 0, 3, 0, -1], crs: 'EPSG:27700' }, [new Float32Array(9)]);
    });
    const e = await failure(scenario);
    expect(e.code).toBe('E_SCENARIO_INVALID');
    expect(e.problems!.some((p) => p.message.startsWith('[E_CRS_UNKNOWN]'))).toBe(true);
    expect(e.problems!.some((p) => p.message.startsWith('[E_UNIT_MISMATCH]'))).toBe(true);
  });
});
