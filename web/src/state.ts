/**
 * @module web/state
 * The dashboard's one state object and its change notification. Views read it and re-render on `emit`;
 * only main.ts and inputs.ts change it.
 */
import type { AssessResult } from '../../src/engine/result.js';
import type { ZoneCollection } from './lib/map.js';
import type { Layout, MetricId } from './lib/metrics.js';
import type { Preview } from './lib/preview.js';

export type ResultOrigin = 'cli' | 'browser' | 'api';

export interface Current {
  /** What the page shows, in a few words. */
  label: string;
  /** 'demo-forecast' / 'demo-risk' while the demo is unchanged (its precomputed result applies). */
  demo?: 'forecast' | 'risk';
  /** The scenario document; sources are file names, data: or http(s) URLs. */
  doc: Record<string, unknown>;
  /** The exact bytes of `doc` when it came from a file (its sha256 goes into the manifest). */
  docBytes?: Uint8Array;
  /** Files by name (dropped, or made by the demo generator). */
  files: Map<string, Blob>;
  /** Zone polygons in lon/lat for the map, and the zones file's text (for the GeoJSON download). */
  zones?: ZoneCollection;
  zonesText?: string;
  layout?: Layout;
  /** The result shown, and where it came from. */
  result?: AssessResult;
  origin?: ResultOrigin;
  /** The browser's and the API's results for this scenario, for the comparison. */
  browser?: AssessResult;
  api?: AssessResult;
  previews: Preview[];
  damageTiff?: Uint8Array;
  eadTiff?: Uint8Array;
  damageNote?: string;
}

export interface ViewState {
  metric: MetricId;
  slice: number;
  layer: string;
  zone: string | null;
  sort: { key: string; dir: 1 | -1 };
  search: string;
}

type Listener = () => void;
const listeners = new Set<Listener>();

export const state: { current: Current; view: ViewState; busy: boolean } = {
  current: { label: '', doc: {}, files: new Map(), previews: [] },
  view: { metric: 'alert', slice: 0, layer: 'none', zone: null, sort: { key: 'value', dir: -1 }, search: '' },
  busy: false,
};

export function onChange(l: Listener): void {
  listeners.add(l);
}

/** Tells every view the state changed (views render what they need). */
export function emit(): void {
  for (const l of listeners) l();
}
