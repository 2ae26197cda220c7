/**
 * @module engine/plan
 * An assessment plan: everything `map(tile)` needs, as plain data that crosses to a worker (structured
 * clone). The target grid is the exposure grid; each layer names its source and how it comes onto the
 * target (read as is, resampled, or, for nearest-neighbour hazard without classes, aggregated: see
 * src/engine/tile.ts). Zones are carried as coverage spans in target cells, computed once for the whole
 * grid, so a tile's zone weights are the same bits whatever the tiling.
 */
import type { CellWindow, ResampleMethod } from '../geo/resample.js';
import type { DamageFunctionSpec } from '../model/damage-function.js';
import type { Grid } from '../model/grid.js';
import type { EadMethod } from './derive/index.js';
import { layerForWindow, type LayerRef } from './sources.js';

/** How a layer comes onto the target grid: `none` = it is on the target grid. */
export type LayerMethod = ResampleMethod | 'none';

export interface AlignedLayer extends LayerRef {
  method: LayerMethod;
}

export interface HazardLayer extends AlignedLayer {
  /**
   * Nearest without classes: exposure is summed per hazard cell within each unit and the kernel runs on
   * those sums (src/engine/tile.ts), never on upsampled bands. Requires method `nearest`.
   */
  aggregate: boolean;
}

export interface ClassLayer extends AlignedLayer {
  /** Curve index per class value; values not listed take `defaultCurve` (-1: an error). */
  curveOf: Array<[number, number]>;
  defaultCurve: number;
}

/**
 * One zone's coverage on the target grid as row spans (src/geo/coverage.ts `coverageSpans`): 4 int32 per
 * span (row, first column, end column, weight as float32 bits), row by row.
 */
export interface ZoneSpans {
  /** Bounding box of the spans `[x0, y0, x1, y1)`, or null when the zone covers no cell. */
  box: CellWindow | null;
  spans: Int32Array;
}

export interface AssessPlan {
  /** The target grid (the exposure grid). */
  grid: Grid;
  /** Tiles of whole units (src/engine/tiling.ts), in reduce order. */
  tiles: CellWindow[];
  nBands: number;
  exposure: LayerRef;
  hazard: HazardLayer;
  /** Hazard fraction (0..1) multiplying damage: one band for all hazard bands, or one per band. */
  fraction?: AlignedLayer;
  classes?: ClassLayer;
  /** Damage functions in the hazard unit (one, or one per class). */
  curves: DamageFunctionSpec[];
  /** Affected when intensity >= threshold (hazard unit). */
  threshold: number;
  zones: ZoneSpans[];
  /** Per-cell outputs a tile returns: damage per band, and EAD from return-period bands. */
  cellOutputs: { damage: boolean; ead: { returnPeriods: number[]; method: EadMethod } | null };
}

/** The zone spans that touch `window`, other zones emptied: what a tile of `plan` needs of them. */
function zonesForWindow(zones: ZoneSpans[], w: CellWindow): ZoneSpans[] {
  return zones.map((z) => {
    const b = z.box;
    if (!b || b[2] <= w[0] || b[0] >= w[2] || b[3] <= w[1] || b[1] >= w[3]) return { box: null, spans: new Int32Array(0) };
    const s = z.spans;
    const keep: number[] = [];
    for (let i = 0; i < s.length; i += 4) {
      const row = s[i]!;
      if (row < w[1] || row >= w[3] || s[i + 2]! <= w[0] || s[i + 1]! >= w[2]) continue;
      keep.push(i);
    }
    const out = new Int32Array(keep.length * 4);
    keep.forEach((i, k) => out.set(s.subarray(i, i + 4), 4 * k));
    return { box: b, spans: out };
  });
}

/**
 * The part of `plan` tile `t` reads: zones cut to the tile, decoded layers cut to the windows the tile
 * reads (`sourceWindows`: per layer, the window of its own grid, or null for none). File and URL
 * sources are left as they are: the tile reads its own windows. `mapTile(slice, t)` = `mapTile(plan, t)`.
 */
export function planSlice(plan: AssessPlan, t: number, sourceWindows: { exposure: CellWindow; hazard: CellWindow | null; fraction?: CellWindow | null; classes?: CellWindow | null }): AssessPlan {
  const tile = plan.tiles[t]!;
  return {
    ...plan,
    exposure: layerForWindow(plan.exposure, sourceWindows.exposure),
    hazard: { ...plan.hazard, ...layerForWindow(plan.hazard, sourceWindows.hazard) },
    ...(plan.fraction ? { fraction: { ...plan.fraction, ...layerForWindow(plan.fraction, sourceWindows.fraction ?? null) } } : {}),
    ...(plan.classes ? { classes: { ...plan.classes, ...layerForWindow(plan.classes, sourceWindows.classes ?? null) } } : {}),
    zones: zonesForWindow(plan.zones, tile),
  };
}
