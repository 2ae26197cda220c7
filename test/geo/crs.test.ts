/** CRS support: the transforms the geo layer needs, checked against known coordinates. */
import { describe, expect, it } from 'vitest';
import { canonicalCrs, isSupportedCrs, pointTransform, transformPoints } from '../../src/geo/crs.js';
import { IbfError } from '../../src/errors.js';

describe('crs', () => {
  it('accepts the usual spellings', () => {
    expect(canonicalCrs('urn:ogc:def:crs:OGC:1.3:CRS84')).toBe('EPSG:4326');
    expect(canonicalCrs('urn:ogc:def:crs:EPSG::32633')).toBe('EPSG:32633');
    expect(canonicalCrs('epsg:3857')).toBe('EPSG:3857');
    expect(isSupportedCrs('EPSG:32760')).toBe(true);
    expect(isSupportedCrs('EPSG:32661')).toBe(false);
  });

  it('transforms WGS84 to Web Mercator and UTM', () => {
    // Web Mercator: x = R * lon (rad); 180 deg -> 20037508.342789244 m (the EPSG:3857 bound)
    const [x] = pointTransform('EPSG:4326', 'EPSG:3857')(180, 0);
    expect(x).toBeCloseTo(20037508.342789244, 6);
    // UTM 33N false easting at the central meridian 15 E, equator -> (500000, 0)
    const [e, n] = pointTransform('EPSG:4326', 'EPSG:32633')(15, 0);
    expect(e).toBeCloseTo(500000, 6);
    expect(n).toBeCloseTo(0, 6);
    // south zone: false northing 10,000 km at the equator
    const [, s] = pointTransform('EPSG:4326', 'EPSG:32733')(15, 0);
    expect(s).toBeCloseTo(10000000, 6);
    const back = transformPoints('EPSG:32633', 'EPSG:4326', new Float64Array([500000, 0]));
    expect(back[0]).toBeCloseTo(15, 9);
  });

  it('refuses unknown CRSs with E_CRS_UNKNOWN', () => {
    expect(() => pointTransform('EPSG:27700', 'EPSG:4326', 'the hazard')).toThrow(IbfError);
    try {
      pointTransform('EPSG:27700', 'EPSG:4326', 'the hazard');
    } catch (e) {
      expect((e as IbfError).code).toBe('E_CRS_UNKNOWN');
      expect((e as IbfError).message).toContain('the hazard');
    }
  });
});
