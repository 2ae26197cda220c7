/**
 * zones.csv and zones.geojson (issue #4 section 5) from real results: the Delft-FIAT synthetic grid
 * (../shared/data/fiat-synthetic-grid, EPSG:4326) with return-period maps, an event set and an
 * ensemble with a trigger, and the UTM 31N fixture (test/fixtures/assess-utm) with a MultiPolygon zone
 * with a hole. Every number must read back as the same float64; names with commas, quotes and line
 * breaks must survive RFC 4180 quoting; the polygons must read back through parseZones unchanged.
 */
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readRaster } from '../../src/io/geotiff.js';
import { parseZones } from '../../src/io/zones.js';
import { zonesCsv, zonesGeoJson, zoneTable, type ZoneValue } from '../../src/io/zones-out.js';
import { loadKernel } from '../../src/kernels/load-node.js';
import type { ImpactKernel } from '../../src/kernels/types.js';
import type { AssessResult } from '../../src/engine/result.js';
import type { Zones } from '../../src/model/zones.js';
import { runScenarioFile } from '../../src/node/run-scenario.js';
import { FIAT, tempDir, thrown, writeJson, writeTif } from '../helpers.js';

let kernel: ImpactKernel;
beforeAll(async () => {
  kernel = await loadKernel();
});

/** A small RFC 4180 reader, independent of the writer: records of fields, quotes undone. */
function readCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] === '"') {
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) throw new Error('unterminated quoted field');
        field += text.slice(i, q);
        i = q + 1;
        if (text[i] === '"') {
          field += '"';
          i++;
        } else break;
      }
    } else if (text[i] === ',') {
      record.push(field);
      field = '';
      i++;
    } else if (text.startsWith('\r\n', i)) {
      record.push(field);
      records.push(record);
      field = '';
      record = [];
      i += 2;
    } else {
      if (text[i] === '\r' || text[i] === '\n') throw new Error(`bare line break at ${i}`);
      field += text[i];
      i++;
    }
  }
  if (field !== '' || record.length) throw new Error('the last record has no CRLF');
  return records;
}

/** What a CSV field must be for a table value. */
const asField = (v: ZoneValue) => (v === null ? '' : typeof v === 'number' ? v : String(v));
/** A CSV field read back: numbers for numeric text, as the writer wrote them. */
const fromField = (s: string, v: ZoneValue) => (typeof v === 'number' ? Number(s) : s);

function fiatDir(): string {
  const dir = tempDir();
  for (const f of ['event_map.tif', 'exposure_max_damage.tif', 'risk_map_rp2_5_10_25.tif', 'vulnerability_curves.csv']) copyFileSync(join(FIAT, f), join(dir, f));
  return dir;
}

const rect = (x0: number, y0: number, x1: number, y1: number) => [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]];
const NAMES = { W: 'West, "polder" side', NE: 'North-east\r\nline two', MID: 'Centre; plain' };
const FIAT_ZONES = {
  type: 'FeatureCollection',
  features: [
    { type: 'Feature', properties: { code: 'W', label: NAMES.W }, geometry: { type: 'Polygon', coordinates: rect(4.35, 51.95, 4.4, 52.05) } },
    { type: 'Feature', properties: { code: 'NE', label: NAMES.NE }, geometry: { type: 'Polygon', coordinates: rect(4.4, 52.0, 4.45, 52.05) } },
    { type: 'Feature', properties: { code: 'MID', label: NAMES.MID }, geometry: { type: 'Polygon', coordinates: rect(4.38, 51.98, 4.42, 52.02) } },
    { type: 'Feature', properties: { code: 7 }, geometry: { type: 'Polygon', coordinates: rect(4.4, 51.95, 4.45, 52.0) } },
  ],
};
const base = {
  exposure: { source: 'exposure_max_damage.tif', unit: 'EUR' },
  vulnerability: { csv: 'vulnerability_curves.csv', column: 'struct_1' },
  zones: { source: 'zones.geojson', idProperty: 'code', nameProperty: 'label' },
};

async function runFiat(scenario: Record<string, unknown>, extra?: (dir: string) => Promise<void>): Promise<{ result: AssessResult; zones: Zones }> {
  const dir = fiatDir();
  writeJson(join(dir, 'zones.geojson'), FIAT_ZONES);
  await extra?.(dir);
  writeJson(join(dir, 's.json'), { ...base, ...scenario });
  const { result } = await runScenarioFile(join(dir, 's.json'), { kernel });
  return { result, zones: parseZones(FIAT_ZONES, { idProperty: 'code', nameProperty: 'label' }) };
}

/** Every table value round-trips through the CSV: numbers bit for bit, strings exactly, null as empty. */
function expectCsvRoundTrip(result: AssessResult): string[][] {
  const csv = zonesCsv(result);
  const { columns, rows } = zoneTable(result);
  const records = readCsv(csv);
  expect(records[0]).toEqual(columns);
  expect(records).toHaveLength(result.zones.length + 1);
  rows.forEach((row, z) => {
    const record = records[z + 1]!;
    expect(record).toHaveLength(columns.length);
    columns.forEach((c, k) => {
      const v = row[c]!;
      expect({ c, v: fromField(record[k]!, v) }).toEqual({ c, v: asField(v) });
    });
  });
  return records;
}

describe('zones.csv', () => {
  it('return-period maps: per-band damage / affected value / max intensity, ead, and names that need quoting', async () => {
    const { result } = await runFiat({
      hazard: { source: 'risk_map_rp2_5_10_25.tif', unit: 'm', bands: { type: 'return-periods', returnPeriods: [2, 5, 10, 25], names: ['rp 2', 'rp,5', 'rp"10"', 'rp25'] } },
      affectedThreshold: 2,
    });
    const { columns } = zoneTable(result);
    expect(columns).toEqual([
      'id', 'name', 'cells', 'exposedValue',
      'damage_rp 2', 'damage_rp,5', 'damage_rp"10"', 'damage_rp25',
      'affectedValue_rp 2', 'affectedValue_rp,5', 'affectedValue_rp"10"', 'affectedValue_rp25',
      'maxIntensity_rp 2', 'maxIntensity_rp,5', 'maxIntensity_rp"10"', 'maxIntensity_rp25',
      'ead',
    ]);
    const csv = zonesCsv(result);
    // the header and the names as RFC 4180 writes them; CRLF line ends, one after the last record too
    expect(csv.split('\r\n')[0]).toBe('id,name,cells,exposedValue,damage_rp 2,"damage_rp,5","damage_rp""10""",damage_rp25,affectedValue_rp 2,"affectedValue_rp,5","affectedValue_rp""10""",affectedValue_rp25,maxIntensity_rp 2,"maxIntensity_rp,5","maxIntensity_rp""10""",maxIntensity_rp25,ead');
    expect(csv).toContain('\r\nW,"West, ""polder"" side",50,');
    expect(csv).toContain('\r\nNE,"North-east\r\nline two",');
    expect(csv).toContain('\r\nMID,Centre; plain,');
    expect(csv.endsWith('\r\n')).toBe(true);
    const records = expectCsvRoundTrip(result);
    expect(records.map((r) => r[0])).toEqual(['id', 'W', 'NE', 'MID', '7']);
    expect(records.map((r) => r[1])).toEqual(['name', NAMES.W, NAMES.NE, NAMES.MID, '']);
    // the numbers are the result's, bit for bit
    const col = (c: string) => records[0]!.indexOf(c);
    result.zones.forEach((z, i) => {
      const r = records[i + 1]!;
      expect(Number(r[col('ead')])).toBe(z.ead);
      expect(Number(r[col('damage_rp"10"')])).toBe(z.damage[2]);
      expect(Number(r[col('affectedValue_rp25')])).toBe(z.affectedValue[3]);
      expect(Number(r[col('maxIntensity_rp,5')])).toBe(z.maxIntensity[1]);
      expect(Number(r[col('cells')])).toBe(z.cells);
    });
  });

  it('event sets: eai per zone', async () => {
    const { result } = await runFiat({ hazard: { source: 'risk_map_rp2_5_10_25.tif', unit: 'm', bands: { type: 'events', frequencies: [0.5, 0.2, 0.1, 0.04] } } });
    const records = expectCsvRoundTrip(result);
    expect(records[0]!.slice(-2)).toEqual(['maxIntensity_band_4', 'eai']);
    expect(records.slice(1).map((r) => Number(r.at(-1)))).toEqual(result.zones.map((z) => z.eai));
  });

  it('ensembles with a trigger: alert, probability and triggered per lead time', async () => {
    const { result } = await runFiat(
      {
        hazard: { source: 'ens.tif', unit: 'm', bands: { type: 'ensemble', members: 5, leadTimes: ['24-hour', '48-hour'] } },
        trigger: { metric: 'damage', threshold: 10_000, pMin: 0.6, maxLeadTime: '1-day', alertClasses: [{ level: 'low', threshold: 5_000, pMin: 0.2 }, { level: 'medium', threshold: 10_000, pMin: 0.6 }] },
      },
      async (dir) => {
        const event = await readRaster(readFileSync(join(FIAT, 'event_map.tif')), { as: 'float32' });
        const bands: Float32Array[] = [];
        for (let m = 0; m < 5; m++) for (let l = 0; l < 2; l++) bands.push(Float32Array.from(event.bands[0]!, (v) => v * (0.5 + m / 4 + l / 2)));
        writeTif(join(dir, 'ens.tif'), event.grid, bands);
      },
    );
    const records = expectCsvRoundTrip(result);
    expect(records[0]!.slice(-6)).toEqual(['alert_24-hour', 'probability_24-hour', 'triggered_24-hour', 'alert_48-hour', 'probability_48-hour', 'triggered_48-hour']);
    expect(records[0]).toHaveLength(4 + 3 * 10 + 6);
    result.zones.forEach((z, i) => {
      const r = records[i + 1]!.slice(-6);
      expect(r).toEqual(z.trigger!.flatMap((t) => [t.alertLevel, String(t.probability), String(t.triggered)]));
    });
    // the 48-hour lead time lies beyond maxLeadTime: never triggered, whatever the probability
    expect(records.slice(1).map((r) => r.at(-1))).toEqual(['false', 'false', 'false', 'false']);
    expect(records.slice(1).some((r) => r.at(-4) === 'true')).toBe(true);
  });

  it('null, NaN and repeated band names', async () => {
    const { result } = await runFiat({ hazard: { source: 'risk_map_rp2_5_10_25.tif', unit: 'm', bands: { type: 'return-periods', returnPeriods: [2, 5, 10, 25], names: ['rp', 'rp', 'x', 'rp'] } } });
    const r = structuredClone(result);
    r.zones[0]!.maxIntensity[2] = null;
    r.zones[1]!.ead = NaN;
    const { columns, rows } = zoneTable(r);
    expect(columns.slice(4, 8)).toEqual(['damage_rp#1', 'damage_rp#2', 'damage_x', 'damage_rp#4']);
    expect(rows[0]!.maxIntensity_x).toBeNull();
    expect(rows[1]!.ead).toBeNull();
    const records = expectCsvRoundTrip(r);
    expect(records[1]![columns.indexOf('maxIntensity_x')]).toBe('');
    expect(records[2]![columns.indexOf('ead')]).toBe('');
    expect(zonesCsv({ ...r, zones: [] })).toBe(`${columns.slice(0, 16).map((c) => (c.includes(',') ? `"${c}"` : c)).join(',')}\r\n`);
  });
});

describe('zones.geojson', () => {
  it('EPSG:4326: the zone polygons with the CSV columns as properties, no crs member', async () => {
    const { result, zones } = await runFiat({ hazard: { source: 'risk_map_rp2_5_10_25.tif', unit: 'm', bands: { type: 'return-periods', returnPeriods: [2, 5, 10, 25] } } });
    const fc = JSON.parse(JSON.stringify(zonesGeoJson(result, zones)));
    expect(fc.crs).toBeUndefined();
    expect(fc.type).toBe('FeatureCollection');
    const { columns, rows } = zoneTable(result);
    expect(fc.features.map((f: any) => f.id)).toEqual(['W', 'NE', 'MID', '7']);
    fc.features.forEach((f: any, i: number) => {
      expect(Object.keys(f.properties)).toEqual(columns);
      expect(f.properties).toEqual(rows[i]); // numbers round-trip through JSON bit for bit
      expect(f.geometry).toEqual({ type: 'Polygon', coordinates: FIAT_ZONES.features[i]!.geometry.coordinates });
    });
    expect(fc.features[3].properties.name).toBeNull();
    expect(fc.features[0].properties.name).toBe(NAMES.W);
    expect(fc.features[1].properties.ead).toBe(result.zones[1]!.ead);
  });

  it('UTM 31N: a MultiPolygon with a hole and an unclosed ring, the legacy crs member, and parseZones reads it back', async () => {
    const fixtures = join(import.meta.dirname, '..', 'fixtures', 'assess-utm');
    const dir = tempDir();
    for (const f of ['exposure_utm31n.tif', 'hazard_gdalwarp_near.tif']) copyFileSync(join(fixtures, f), join(dir, f));
    copyFileSync(join(FIAT, 'vulnerability_curves.csv'), join(dir, 'vulnerability_curves.csv'));
    // the exposure grid: 24 x 40 cells of 250 m from (592750, 5767250) down to (598750, 5757250)
    const zonesDoc = {
      type: 'FeatureCollection',
      crs: { type: 'name', properties: { name: 'urn:ogc:def:crs:EPSG::32631' } },
      features: [
        {
          type: 'Feature',
          properties: { pcode: 'NL-ZH-1', label: 'Zuid-Holland, "west"' },
          geometry: {
            type: 'MultiPolygon',
            coordinates: [
              [rect(592750, 5757250, 595750, 5767250)[0], rect(593500, 5760000, 594500, 5761000)[0]!.reverse()],
              [[[596000, 5758000], [598000, 5758000], [597000, 5760000], [596000, 5758000]]],
            ],
          },
        },
        { type: 'Feature', properties: { pcode: 'NL-ZH-2', label: 'Oost' }, geometry: { type: 'Polygon', coordinates: [[[595750, 5762250], [598750, 5762250], [598750, 5767250], [595750, 5767250]]] } },
      ],
    };
    writeJson(join(dir, 'zones.geojson'), zonesDoc);
    writeJson(join(dir, 's.json'), {
      hazard: { source: 'hazard_gdalwarp_near.tif', unit: 'm' },
      exposure: { source: 'exposure_utm31n.tif', unit: 'EUR' },
      vulnerability: { csv: 'vulnerability_curves.csv', column: 'struct_1' },
      zones: { source: 'zones.geojson', idProperty: 'pcode', nameProperty: 'label' },
    });
    const { result } = await runScenarioFile(join(dir, 's.json'), { kernel });
    expect(result.grid!.crs).toBe('EPSG:32631');
    expect(result.zones.map((z) => z.damage[0]! > 0 && z.cells > 0)).toEqual([true, true]);
    const zones = parseZones(zonesDoc, { idProperty: 'pcode', nameProperty: 'label' });
    const fc = JSON.parse(JSON.stringify(zonesGeoJson(result, zones)));
    expect(fc.crs).toEqual({ type: 'name', properties: { name: 'urn:ogc:def:crs:EPSG::32631' } });
    expect(fc.features[0].geometry).toEqual(zonesDoc.features[0]!.geometry);
    // the unclosed ring comes out closed
    expect(fc.features[1].geometry).toEqual({ type: 'Polygon', coordinates: rect(595750, 5762250, 598750, 5767250) });
    expect(fc.features[0].properties).toMatchObject({ id: 'NL-ZH-1', name: 'Zuid-Holland, "west"', cells: result.zones[0]!.cells, damage_band_1: result.zones[0]!.damage[0] });
    // read back as zones: the same CRS, ids, names and polygons, and the result properties ride along
    const again = parseZones(fc, { idProperty: 'id', nameProperty: 'name' });
    expect(again.crs).toBe('EPSG:32631');
    expect(again.zones.map((z) => [z.id, z.name])).toEqual([['NL-ZH-1', 'Zuid-Holland, "west"'], ['NL-ZH-2', 'Oost']]);
    expect(again.zones[0]!.polygons).toEqual(zones.zones[0]!.polygons);
    expect(again.zones[1]!.polygons[0]![0]!.slice(0, 8)).toEqual(zones.zones[1]!.polygons[0]![0]!.slice(0, 8));
    // and the CSV of the same result
    const records = expectCsvRoundTrip(result);
    expect(records[1]!.slice(0, 2)).toEqual(['NL-ZH-1', 'Zuid-Holland, "west"']);
  });

  it('refuses zones that are not the result\'s, listing every mismatch', async () => {
    const { result, zones } = await runFiat({ hazard: { source: 'event_map.tif', unit: 'm' } });
    const other: Zones = { ...zones, zones: [...zones.zones.slice(1), { id: 'X', polygons: zones.zones[0]!.polygons }] };
    const e = thrown(() => zonesGeoJson(result, other));
    expect(e.code).toBe('E_ZONES_INVALID');
    expect(e.problems).toEqual([
      { path: 'zones[0].id', message: 'zone "W" of the result has no polygons in the zones given' },
      { path: 'zones.zones[3].id', message: 'zone "X" of the zones given is not in the result' },
    ]);
  });
});
