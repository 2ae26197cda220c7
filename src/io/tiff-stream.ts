/**
 * @module io/tiff-stream
 * A streaming, memory-bounded GeoTIFF writer: a raster is written window by window, in any order, through a
 * {@link TiffSink} (positional writes), and never held whole.
 *
 * Why: a country-sized damage raster (16384 x 16384 cells x 51 ensemble members as float32 is 55 GB) does not
 * fit in memory, nor in one ArrayBuffer, while `writeGeoTiff` encodes a raster held in memory. Here the
 * engine hands over each window as it finishes it; its tiles go to the sink at once, and the writer keeps
 * only the offset and byte count of each tile (16 bytes per tile and band: 3.3 MB for the raster above)
 * plus one tile buffer (two with DEFLATE). Writes are serialised, so the sink sees one write at a time.
 *
 * Layout of the file:
 * - header (8 bytes, BigTIFF 16), written last, when the IFD offset is known;
 * - tiles, appended in the order they are written: `tileSize` x `tileSize` cells of one band each
 *   (PlanarConfiguration 2, band-separate, so bands are independent tiles); edge tiles are padded to the
 *   full tile size with nodata (0 when there is none) as TIFF requires;
 * - the one IFD (image file directory) at the end, 8-byte aligned, with the tile offset / byte count
 *   tables (TIFF order: band, then tile row, then tile column) and the same georeferencing, `GDAL_NODATA`
 *   and `GDAL_METADATA` tags as `writeGeoTiff` (built by `geoTiffTags` of io/gdal-tags).
 * Tiles never written are sparse (offset 0, byte count 0): GDAL, and `readRaster`, read them as nodata.
 * Until `close()` the header is zeros, so an interrupted write never looks like a valid TIFF.
 *
 * BigTIFF (64-bit offsets) is chosen up front when the file could exceed 4 GiB (every tile written,
 * uncompressed or at DEFLATE's worst case); `bigTiff: true` forces it. Optional DEFLATE (TIFF compression
 * 8, zlib) with the floating-point predictor (3) uses the web-standard `CompressionStream('deflate')`.
 *
 * Runtime-neutral (Node 20, browsers, Cloudflare Workers): no Node imports. A file sink lives in io/node
 * (`fileTiffSink`); {@link memoryTiffSink} collects the bytes in memory.
 */
import { IbfError, type Problem } from '../errors.js';
import type { Grid } from '../model/grid.js';
import { readStream } from './byte-source.js';
import { geoTiffTags } from './gdal-tags.js';
import { MAX_CLASSIC, imageTags, layoutIfd, tiffHeader, writeIfd, type TiffTag } from './tiff-writer.js';

/** Where a streamed TIFF goes: positional writes (any order, never concurrent), then close or abort. */
export interface TiffSink {
  /** Writes `bytes` at byte `position`; the bytes may be reused once the promise resolves. */
  write(bytes: Uint8Array, position: number): Promise<void>;
  /** Called once by the writer's `close()`, after the last write: make the file final. */
  close?(): Promise<void>;
  /** Called when writing failed or was given up: drop what was written (e.g. remove a temporary file). */
  abort?(): Promise<void>;
}

/** A {@link TiffSink} that collects the file in a growable in-memory buffer. */
export interface MemoryTiffSink extends TiffSink {
  /** Bytes written so far (the end of the furthest write). */
  readonly size: number;
  /** The file: a view of the first `size` bytes of the buffer (no copy; later writes may replace the buffer). */
  bytes(): Uint8Array;
}

/** For browsers, workers and tests: a sink that grows a buffer (doubling) and never frees it. */
export function memoryTiffSink(): MemoryTiffSink {
  let buf = new Uint8Array(64 * 1024);
  let size = 0;
  return {
    get size() {
      return size;
    },
    bytes: () => buf.subarray(0, size),
    async write(bytes, position) {
      const end = position + bytes.byteLength;
      if (end > buf.byteLength) {
        const grown = new Uint8Array(Math.max(end, buf.byteLength * 2));
        grown.set(buf.subarray(0, size));
        buf = grown;
      }
      buf.set(bytes, position);
      size = Math.max(size, end);
    },
  };
}

export interface TiledGeoTiffOptions {
  grid: Grid;
  /** Bands of the file (1..65535); every window carries all of them. */
  nBands: number;
  /** Cell type of the file; only `float32` for now. */
  sampleType?: 'float32';
  /** Nodata (`GDAL_NODATA`; NaN is written as `nan`), or null. Pads edge tiles; unwritten tiles read as it. */
  nodata: number | null;
  /** Tile width and height in cells: a multiple of 16, at most 4096. Default 256. */
  tileSize?: number;
  /** Band descriptions (GDAL `SetDescription`), one per band. */
  bandNames?: string[];
  /** Dataset `GDAL_METADATA` items. */
  metadata?: Record<string, string>;
  /** Per-band `GDAL_METADATA` items. */
  bandMetadata?: Record<string, string>[];
  /** Whether `EPSG:nnnn` is geographic or projected; default as in `writeGeoTiff`. */
  crsType?: 'geographic' | 'projected';
  /** `none` (default) or `deflate` (zlib, floating-point predictor 3; needs `CompressionStream`). */
  compression?: 'none' | 'deflate';
  /**
   * BigTIFF (64-bit offsets): true forces it, false refuses a raster that could exceed 4 GiB (`E_LIMIT`).
   * Default: BigTIFF exactly when the file could exceed 4 GiB.
   */
  bigTiff?: boolean;
}

/** Cell window `[x0, y0, x1, y1]`: columns x0..x1-1, rows y0..y1-1 (as `readRaster`'s `window`). */
export type TileWindow = readonly [number, number, number, number];

/** A GeoTIFF being written tile by tile; see {@link createTiledGeoTiff}. */
export interface TiledGeoTiffWriter {
  /** Tile width and height in cells: windows start on multiples of it. */
  readonly tileSize: number;
  /** Tiles per row and per column of the grid. */
  readonly tilesAcross: number;
  readonly tilesDown: number;
  /** Whether the file is a BigTIFF. */
  readonly bigTiff: boolean;
  /**
   * Writes a window of every band: `bands[b]` is row-major, `(x1 - x0) * (y1 - y0)` cells. `x0` and `y0` are
   * multiples of `tileSize`; `x1` and `y1` too, or the raster's width / height. Each tile may be written
   * once. The window is checked (and its tiles claimed) at the call, so a bad window rejects without
   * writing anything; the tiles are written in call order, and the promise resolves once they are with
   * the sink. Keep `bands` unchanged until then.
   * Errors: `E_USAGE` (misaligned or out-of-grid window, wrong band count or length, tile already written,
   * writer closed), `E_LIMIT` (a classic TIFF outgrew 4 GiB), `E_IO` / the sink's error (the writer is then
   * failed: later calls reject with the same error).
   */
  writeWindow(window: TileWindow, bands: readonly Float32Array[]): Promise<void>;
  /**
   * Waits for pending writes, writes the IFD and the header, then closes the sink. Tiles never written stay
   * sparse (nodata). When anything failed, aborts the sink and rejects. Calling it again returns the same promise.
   */
  close(): Promise<void>;
  /** Gives up: waits for pending writes, then aborts the sink (a file sink removes its temporary file). No-op after `close()`. */
  abort(): Promise<void>;
}

const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const MAX_TILE = 4096;

/** zlib's `deflateBound` plus the zlib wrapper: the most bytes DEFLATE can make of `n` bytes. */
function deflateBound(n: number): number {
  return n + Math.floor(n / 4096) + Math.floor(n / 16384) + Math.floor(n / 2 ** 25) + 7 + 6 + 16;
}

const intIn = (v: unknown, lo: number, hi: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;

/**
 * Starts a tiled, band-separate float32 GeoTIFF on `sink`; windows are then written in any order with
 * `writeWindow` and the file is finished with `close()` (see the module header for the layout).
 *
 * Throws `E_USAGE` listing every problem of the options (grid, CRS, band names, tile size, ...), and
 * `E_LIMIT` when `bigTiff: false` but the file could exceed 4 GiB. Nothing is written before the first window.
 */
export function createTiledGeoTiff(sink: TiffSink, opts: TiledGeoTiffOptions): TiledGeoTiffWriter {
  const problems: Problem[] = [];
  const { grid, nBands } = opts;
  const width = grid?.width;
  const height = grid?.height;
  if (!intIn(width, 1, MAX_CLASSIC) || !intIn(height, 1, MAX_CLASSIC)) {
    problems.push({ path: 'grid', message: `is ${width}x${height} cells; width and height must be positive integers below 2^32` });
  }
  if (!intIn(nBands, 1, 65535)) problems.push({ path: 'nBands', message: `is ${nBands}; must be an integer in 1..65535` });
  if (opts.sampleType !== undefined && opts.sampleType !== 'float32') problems.push({ path: 'sampleType', message: `is ${JSON.stringify(opts.sampleType)}; only 'float32' is supported` });
  const tileSize = opts.tileSize ?? 256;
  if (!intIn(tileSize, 16, MAX_TILE) || tileSize % 16 !== 0) {
    problems.push({ path: 'tileSize', message: `is ${tileSize}; TIFF tiles are a multiple of 16 cells (16..${MAX_TILE})` });
  }
  const compression = opts.compression ?? 'none';
  if (compression !== 'none' && compression !== 'deflate') {
    problems.push({ path: 'compression', message: `is ${JSON.stringify(compression)}; must be 'none' or 'deflate'` });
  } else if (compression === 'deflate' && typeof CompressionStream !== 'function') {
    problems.push({ path: 'compression', message: "is 'deflate', but this runtime has no CompressionStream; use 'none'" });
  }
  if (opts.bigTiff !== undefined && typeof opts.bigTiff !== 'boolean') problems.push({ path: 'bigTiff', message: `is ${JSON.stringify(opts.bigTiff)}; must be true, false or left out` });
  if (!sink || typeof sink.write !== 'function') problems.push({ path: 'sink', message: 'must have a write(bytes, position) method' });
  const geo = grid
    ? geoTiffTags({ grid, nBands, nodata: opts.nodata, bandNames: opts.bandNames, metadata: opts.metadata, bandMetadata: opts.bandMetadata, crsType: opts.crsType })
    : { tags: [], problems: [] };
  problems.push(...geo.problems);
  if (problems.length) throw IbfError.fromProblems('E_USAGE', 'cannot start a tiled GeoTIFF', problems, 'Fix the listed options; tiles are square, a multiple of 16 cells (default 256).');

  const deflate = compression === 'deflate';
  const across = Math.ceil(width / tileSize);
  const down = Math.ceil(height / tileSize);
  const perBand = across * down;
  const nTiles = perBand * nBands;
  const tileCells = tileSize * tileSize;
  const tileBytes = tileCells * 4;
  const offsets = new Float64Array(nTiles);
  /** Byte count of each tile: 0 never written, -1 claimed by a pending window. */
  const counts = new Float64Array(nTiles);
  const tags = (big: boolean): TiffTag[] => [
    ...imageTags({ width, height, bands: nBands, bitsPerSample: 32, sampleFormat: 3, planar: true, compression: deflate ? 8 : 1, predictor: deflate ? 3 : 1 }),
    { tag: 322, type: 'LONG', value: [tileSize] },
    { tag: 323, type: 'LONG', value: [tileSize] },
    { tag: 324, type: big ? 'LONG8' : 'LONG', value: offsets },
    { tag: 325, type: big ? 'LONG8' : 'LONG', value: counts },
    ...geo.tags,
  ];
  // the largest classic file: header, every tile at its largest, alignment, IFD
  const classicMax = 8 + nTiles * (deflate ? deflateBound(tileBytes) : tileBytes) + 7 + layoutIfd(tags(false), 0).end;
  if (opts.bigTiff === false && classicMax > MAX_CLASSIC) {
    throw new IbfError('E_LIMIT', `a ${width}x${height}x${nBands} float32 GeoTIFF can reach ${classicMax} bytes, more than classic TIFF allows (4 GiB), and bigTiff is false`, {
      hint: 'Leave bigTiff out (BigTIFF is then used when needed; GDAL reads it), or write fewer bands per file.',
      details: { bytes: classicMax },
    });
  }
  const bigTiff = opts.bigTiff ?? classicMax > MAX_CLASSIC;
  const pad = opts.nodata ?? 0;

  const tile = new Float32Array(tileCells);
  const tileU8 = new Uint8Array(tile.buffer);
  const predicted = deflate ? new Uint8Array(tileBytes) : null;
  let end = bigTiff ? 16 : 8; // next append position
  let queue: Promise<void> = Promise.resolve();
  let failure: unknown = null;
  let state: 'open' | 'closing' | 'aborted' = 'open';
  let closing: Promise<void> | null = null;

  const fail = (e: unknown): never => {
    failure ??= e instanceof IbfError ? e : new IbfError('E_IO', `cannot write the GeoTIFF: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    throw failure;
  };

  /** Copies one tile of `band` (window-relative origin `cx`, `cy`) into the tile buffer, padded, little-endian. */
  function fillTile(band: Float32Array, w: number, cx: number, cy: number, cols: number, rows: number): Uint8Array {
    if (cols < tileSize || rows < tileSize) tile.fill(pad);
    for (let r = 0; r < rows; r++) {
      const src = (cy + r) * w + cx;
      tile.set(band.subarray(src, src + cols), r * tileSize);
    }
    if (!HOST_LE) swap32(tileU8);
    return tileU8;
  }

  /** Appends the bytes of tile `idx` and records where they went. */
  async function append(idx: number, bytes: Uint8Array): Promise<void> {
    if (!bigTiff && end + bytes.byteLength > MAX_CLASSIC) {
      throw new IbfError('E_LIMIT', `the GeoTIFF outgrew classic TIFF's 4 GiB at ${end + bytes.byteLength} bytes`, {
        hint: 'Pass bigTiff: true (GDAL reads BigTIFF).',
      });
    }
    await sink.write(bytes, end);
    offsets[idx] = end;
    counts[idx] = bytes.byteLength;
    end += bytes.byteLength;
  }

  /** Writes the tiles of a checked window: band by band, row by row; appended in this order. */
  async function writeTiles(bands: readonly Float32Array[], x0: number, y0: number, x1: number, y1: number): Promise<void> {
    const w = x1 - x0;
    for (let p = 0; p < nBands; p++) {
      for (let ty = y0 / tileSize; ty * tileSize < y1; ty++) {
        for (let tx = x0 / tileSize; tx * tileSize < x1; tx++) {
          const raw = fillTile(bands[p]!, w, tx * tileSize - x0, ty * tileSize - y0, Math.min(tileSize, width - tx * tileSize), Math.min(tileSize, height - ty * tileSize));
          await append(p * perBand + ty * across + tx, predicted ? await deflateBytes(floatPredictor(raw, predicted, tileSize)) : raw);
        }
      }
    }
  }

  function check(window: TileWindow, bands: readonly Float32Array[]): Problem[] {
    const out: Problem[] = [];
    if (!Array.isArray(window) || window.length !== 4 || !window.every((v) => Number.isInteger(v))) {
      out.push({ path: 'window', message: `is ${JSON.stringify(window)}; must be four integers [x0, y0, x1, y1]` });
      return out;
    }
    const [x0, y0, x1, y1] = window;
    if (!(x0 >= 0 && x0 < x1 && x1 <= width && y0 >= 0 && y0 < y1 && y1 <= height)) {
      out.push({ path: 'window', message: `[${window.join(', ')}] is not inside the ${width}x${height} raster (need 0 <= x0 < x1 <= ${width}, 0 <= y0 < y1 <= ${height})` });
      return out;
    }
    for (const [name, v] of [['x0', x0], ['y0', y0]] as const) {
      if (v % tileSize !== 0) out.push({ path: `window.${name}`, message: `is ${v}, not a multiple of the tile size ${tileSize}` });
    }
    for (const [name, v, edge] of [['x1', x1, width], ['y1', y1, height]] as const) {
      if (v % tileSize !== 0 && v !== edge) out.push({ path: `window.${name}`, message: `is ${v}, neither a multiple of the tile size ${tileSize} nor the raster's ${name === 'x1' ? 'width' : 'height'} ${edge}` });
    }
    const cells = (x1 - x0) * (y1 - y0);
    if (!Array.isArray(bands) || bands.length !== nBands) {
      out.push({ path: 'bands', message: `has ${Array.isArray(bands) ? bands.length : 'no'} bands; the file has ${nBands}` });
    } else {
      bands.forEach((b, i) => {
        if (!(b instanceof Float32Array) || b.length !== cells) {
          out.push({ path: `bands[${i}]`, message: `is ${b instanceof Float32Array ? `a Float32Array of ${b.length} cells` : String((b as object)?.constructor?.name ?? b)}; expected a Float32Array of ${x1 - x0}x${y1 - y0} = ${cells} cells` });
        }
      });
    }
    return out;
  }

  async function writeWindow(window: TileWindow, bands: readonly Float32Array[]): Promise<void> {
    // everything up to the first await runs at the call: checks and tile claims happen in call order
    if (state !== 'open') throw new IbfError('E_USAGE', `cannot write a window: the GeoTIFF writer was ${state === 'closing' ? 'closed' : 'aborted'}`, { hint: 'Write every window before calling close().' });
    if (failure) throw failure;
    const bad = check(window, bands);
    if (bad.length) {
      throw IbfError.fromProblems('E_USAGE', 'cannot write this window to the tiled GeoTIFF', bad, `Windows start on tile edges (multiples of ${tileSize} cells) and end on one or at the raster's right / bottom edge; bands are row-major Float32Arrays of the window, one per band.`);
    }
    const [x0, y0, x1, y1] = window;
    const tx0 = x0 / tileSize;
    const ty0 = y0 / tileSize;
    const tx1 = Math.ceil(x1 / tileSize);
    const ty1 = Math.ceil(y1 / tileSize);
    const taken: string[] = [];
    for (let ty = ty0; ty < ty1; ty++) for (let tx = tx0; tx < tx1; tx++) if (counts[ty * across + tx] !== 0) taken.push(`(${tx}, ${ty})`);
    if (taken.length) {
      throw new IbfError('E_USAGE', `cannot write window [${window.join(', ')}]: tile${taken.length > 1 ? 's' : ''} ${taken.slice(0, 5).join(', ')}${taken.length > 5 ? `, ... (${taken.length})` : ''} (column, row) already written`, {
        hint: 'Write each tile once: windows must not overlap.',
        details: { window: [...window], tiles: taken.length },
      });
    }
    for (let p = 0; p < nBands; p++) for (let ty = ty0; ty < ty1; ty++) for (let tx = tx0; tx < tx1; tx++) counts[p * perBand + ty * across + tx] = -1;
    const job = queue.then(async () => {
      if (failure) throw failure;
      await writeTiles(bands, x0, y0, x1, y1).catch(fail);
    });
    queue = job.catch(() => {});
    return job;
  }

  async function finish(): Promise<void> {
    try {
      await queue;
      if (failure) throw failure;
      const at = Math.ceil(end / 8) * 8; // the IFD, 8-byte aligned after the last tile
      const ifd = layoutIfd(tags(bigTiff), at, bigTiff);
      if (!bigTiff && ifd.end > MAX_CLASSIC) {
        fail(new IbfError('E_LIMIT', `the GeoTIFF outgrew classic TIFF's 4 GiB at ${ifd.end} bytes`, { hint: 'Pass bigTiff: true (GDAL reads BigTIFF).' }));
      }
      const bytes = new Uint8Array(ifd.end - at);
      writeIfd(ifd, bytes, at);
      await sink.write(bytes, at).catch(fail);
      await sink.write(tiffHeader(at, bigTiff), 0).catch(fail);
      await sink.close?.().catch(fail);
    } catch (e) {
      await sink.abort?.().catch(() => {});
      throw e;
    }
  }

  return {
    tileSize,
    tilesAcross: across,
    tilesDown: down,
    bigTiff,
    writeWindow,
    close() {
      if (state === 'aborted') return Promise.reject(new IbfError('E_USAGE', 'cannot close the GeoTIFF writer: it was aborted', { hint: 'Start a new writer.' }));
      state = 'closing';
      closing ??= finish();
      return closing;
    },
    async abort() {
      if (state !== 'open') return;
      state = 'aborted';
      await queue;
      await sink.abort?.();
    },
  };
}

/** Byte-swaps 32-bit words in place (big-endian hosts: tiles are little-endian). */
function swap32(b: Uint8Array): void {
  for (let i = 0; i < b.length; i += 4) {
    const t0 = b[i]!;
    const t1 = b[i + 1]!;
    b[i] = b[i + 3]!;
    b[i + 1] = b[i + 2]!;
    b[i + 2] = t1;
    b[i + 3] = t0;
  }
}

/**
 * TIFF Predictor 3 (floating point, libtiff's `fpDiff`) for 32-bit samples, one row at a time: the bytes of
 * a row are split into planes, most significant byte first, and each byte is replaced by its difference
 * to the byte before it in the row. `src` holds little-endian samples; the result goes to `dst`.
 */
export function floatPredictor(src: Uint8Array, dst: Uint8Array, rowCells: number): Uint8Array {
  const rowBytes = rowCells * 4;
  for (let row = 0; row < src.length; row += rowBytes) {
    for (let i = 0; i < rowCells; i++) {
      const s = row + 4 * i;
      dst[row + i] = src[s + 3]!;
      dst[row + rowCells + i] = src[s + 2]!;
      dst[row + 2 * rowCells + i] = src[s + 1]!;
      dst[row + 3 * rowCells + i] = src[s]!;
    }
    for (let j = row + rowBytes - 1; j > row; j--) dst[j] = (dst[j]! - dst[j - 1]!) & 0xff;
  }
  return dst;
}

/** zlib-wrapped DEFLATE (TIFF compression 8) through the web-standard CompressionStream. */
async function deflateBytes(data: Uint8Array): Promise<Uint8Array> {
  const cs = new CompressionStream('deflate');
  const writer = cs.writable.getWriter();
  const written = writer.write(data as Uint8Array<ArrayBuffer>).then(() => writer.close());
  written.catch(() => {}); // surfaced through the reader below
  const out = await readStream(cs.readable);
  await written;
  return out!;
}
