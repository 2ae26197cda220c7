/**
 * @module io/geotiff
 * GeoTIFF / COG reading and writing: the only module that imports `geotiff`.
 *
 * Reading follows GDAL: the geotransform comes from ModelPixelScale + ModelTiepoint or ModelTransformation
 * (PixelIsPoint shifted by half a cell), the CRS from the EPSG code in the GeoKeys, nodata from the
 * `GDAL_NODATA` tag (rounded to float32 for float32 bands, as GDAL does), band names from `GDAL_METADATA`.
 * Every failure a file can cause (not a TIFF, truncated, empty, rotated, unsupported type, too large)
 * becomes an {@link IbfError} naming the source, never a raw geotiff exception.
 *
 * Sources are {@link ByteSource}s (ranged reads), so a window of a large COG reads only the blocks it needs.
 */
import { GeoTIFF, type GeoTIFFImage } from 'geotiff';
import { IbfError, type Problem } from '../errors.js';
import type { GeoTransform, Grid } from '../model/grid.js';
import type { BandArray, Raster } from '../model/raster.js';
import { toByteSource, type ByteInput, type ByteSource } from './byte-source.js';
import { buildGdalMetadata, formatGdalNodata, parseGdalMetadata, parseGdalNodata, toFloat32Nodata } from './gdal-tags.js';
import { encodeTiff, type TiffTag } from './tiff-writer.js';
import {
  GEOGRAPHIC_TYPE,
  GT_MODEL_TYPE,
  GT_RASTER_TYPE,
  PROJECTED_CS_TYPE,
  SourceAdapter,
  crsFromGeoKeys,
  epsgCode,
  geoKeys,
  geoTransform,
  invalid,
  numbers,
  preflightIfd,
  sampleType,
  sniff,
  text,
  wrap,
  type SampleType,
} from './tiff-header.js';

export type { ByteInput, ByteSource } from './byte-source.js';
export { toByteSource } from './byte-source.js';

export type { SampleType } from './tiff-header.js';

/** What a GeoTIFF holds, read from its header without decoding any cell. */
export interface RasterInfo {
  grid: Grid;
  bandCount: number;
  dataType: SampleType;
  /** Nodata from `GDAL_NODATA`, in the band type (float32 bands: rounded to float32), or null. */
  nodata: number | null;
  /** False when the file has no geotransform; `grid.transform` is then GDAL's default `[0, 1, 0, 0, 0, 1]`. */
  georeferenced: boolean;
  /** Band descriptions (GDAL `SetDescription`), when any band has one; `''` for the others. */
  bandNames?: string[];
  /** Dataset-level `GDAL_METADATA` items (default domain). */
  metadata: Record<string, string>;
  /** Per-band `GDAL_METADATA` items, e.g. `{ return_period: '10' }`, one object per band. */
  bandMetadata: Record<string, string>[];
  /** Internal block (tile, or strip of full width) size in cells: read windows aligned to it. */
  block: { width: number; height: number; tiled: boolean };
  /** TIFF Compression code (1 none, 5 LZW, 8 DEFLATE, 50000 ZSTD, 34887 LERC, ...). */
  compression: number;
  /** Size of the file in bytes, when the source knows it. */
  byteSize?: number;
}

export interface ReadRasterOptions {
  /** 0-based band indices to read, in this order (GDAL band 1 is index 0). Default: all bands. */
  bands?: number[];
  /** Cell window `[x0, y0, x1, y1]`: columns x0..x1-1, rows y0..y1-1. Default: the whole raster. */
  window?: readonly [number, number, number, number];
  /** Overrides the file's nodata: a value, or null for "every finite value is data". */
  nodata?: number | null;
  /** Array type of the bands: the file's (`native`, default), or converted to float32 / float64. */
  as?: 'float32' | 'float64' | 'native';
  /** Name used in messages (file path, object key). Default: the source's name. */
  name?: string;
  /**
   * Most cells (width x height x bands of the window) to allocate. Default: 2^31 bytes' worth of the
   * output sample type (2^28 cells of float64). Larger requests throw `E_LIMIT` before any allocation.
   */
  maxCells?: number;
}

type GeoTiffSource = Parameters<typeof GeoTIFF.fromSource>[0];

// ---------------------------------------------------------------------------------------------------
// opening and describing

interface Opened {
  name: string;
  adapter: SourceAdapter;
  image: GeoTIFFImage;
  littleEndian: boolean;
  info: RasterInfo;
}

async function openTiff(input: ByteInput, nameOpt: string | undefined, nodataOverride?: number | null): Promise<Opened> {
  let src: ByteSource;
  try {
    src = toByteSource(input);
  } catch (e) {
    throw new IbfError('E_USAGE', `cannot read a GeoTIFF from ${Object.prototype.toString.call(input)}`, {
      hint: 'Pass an ArrayBuffer, Uint8Array, Blob or ByteSource (use io/node fileByteSource for paths).',
      cause: e,
    });
  }
  const name = nameOpt ?? src.name ?? 'GeoTIFF';
  if (src.size === 0) throw invalid(name, 'is empty (0 bytes)', { hint: 'The file has no content; fetch or export it again.' });
  const adapter = new SourceAdapter(src, name);
  let head: Uint8Array;
  try {
    head = new Uint8Array(await adapter.read(0, 16));
  } catch (e) {
    throw wrap(e, name, 'read the file header');
  }
  if (head.length === 0) throw invalid(name, 'is empty (0 bytes)', { hint: 'The file has no content; fetch or export it again.' });
  const bad = sniff(head);
  if (bad) throw invalid(name, `is ${bad.what}, not a GeoTIFF`, { hint: bad.hint });
  await preflightIfd(adapter, head, name).catch((e: unknown) => {
    throw wrap(e, name, 'read the image directory');
  });
  let tiff: GeoTIFF;
  let image: GeoTIFFImage;
  try {
    tiff = await GeoTIFF.fromSource(adapter as unknown as GeoTiffSource);
    image = await tiff.getImage(0);
  } catch (e) {
    throw wrap(e, name, 'parse the TIFF header');
  }
  try {
    const info = await describe(image, name, nodataOverride);
    return { name, adapter, image, littleEndian: tiff.littleEndian, info: src.size === undefined ? info : { ...info, byteSize: src.size } };
  } catch (e) {
    throw wrap(e, name, 'read the GeoTIFF tags');
  }
}

/** Header of the first image as {@link RasterInfo}; refuses what the engine cannot use (rotated, GCPs, odd types). */
async function describe(image: GeoTIFFImage, name: string, nodataOverride: number | null | undefined): Promise<RasterInfo> {
  const fd = image.fileDirectory;
  const width = image.getWidth();
  const height = image.getHeight();
  const bandCount = image.getSamplesPerPixel();
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || !Number.isSafeInteger(bandCount) || width < 1 || height < 1 || bandCount < 1) {
    const show = (v: unknown) => (typeof v === 'number' ? String(v) : 'several values');
    throw invalid(name, `claims an impossible size of ${show(width)}x${show(height)} cells and ${show(bandCount)} bands`);
  }
  const bitsList = numbers(fd.getValue('BitsPerSample')) ?? [1];
  const formatList = numbers(fd.getValue('SampleFormat')) ?? [1];
  const bits = bitsList[0]!;
  const format = formatList[0]!;
  if (bitsList.some((b) => b !== bits) || formatList.some((f) => f !== format)) {
    const list = (a: number[]) => (a.length > 8 ? `${a.slice(0, 8).join(',')},...` : a.join(','));
    throw invalid(name, `mixes sample types across bands (BitsPerSample ${list(bitsList)}, SampleFormat ${list(formatList)})`, {
      hint: 'Convert all bands to one type, e.g. `gdal_translate -ot Float32 in.tif out.tif`.',
    });
  }
  const dataType = sampleType(format, bits);
  if (!dataType) {
    const kind = format === 5 || format === 6 ? 'complex' : format === 2 ? 'signed integer' : format === 3 ? 'float' : 'unsigned integer';
    throw invalid(name, `has ${bits}-bit ${kind} cells, which are not supported`, {
      hint: 'Convert it to a supported type, e.g. `gdal_translate -ot Float64 in.tif out.tif` (types: uint8..uint32, int8..int32, float16/32/64).',
    });
  }
  const keys = geoKeys(numbers(await fd.loadValue('GeoKeyDirectory')));
  const pixelIsPoint = keys.get(GT_RASTER_TYPE) === 2;
  const gt = geoTransform(
    numbers(await fd.loadValue('ModelPixelScale')),
    numbers(await fd.loadValue('ModelTiepoint')),
    numbers(await fd.loadValue('ModelTransformation')),
    pixelIsPoint,
    name,
  );
  const transform: GeoTransform = gt ?? [0, 1, 0, 0, 0, 1];
  if (!transform.every(Number.isFinite)) throw invalid(name, `has a non-finite geotransform [${transform.join(', ')}]`);
  const rotation = Math.max(Math.abs(transform[2]), Math.abs(transform[4]));
  if (rotation > 1e-12 * Math.max(Math.abs(transform[1]), Math.abs(transform[5]))) {
    throw invalid(name, `has a rotated geotransform [${transform.join(', ')}] (rotation terms ${transform[2]}, ${transform[4]}); only north-up grids can be overlaid`, {
      hint: 'Warp it to a north-up grid first, e.g. `gdalwarp in.tif out.tif` (add -t_srs EPSG:nnnn to also reproject).',
      details: { transform },
    });
  }
  if (transform[1] === 0 || transform[5] === 0) throw invalid(name, `has a zero cell size in its geotransform [${transform.join(', ')}]`);
  const northUp: GeoTransform = [transform[0], transform[1], 0, transform[3], 0, transform[5]];

  const float32 = dataType === 'float32' || dataType === 'float16';
  const nodataText = text(fd.getValue('GDAL_NODATA'));
  let nodata: number | null = null;
  if (nodataOverride !== undefined) {
    nodata = nodataOverride === null ? null : float32 ? toFloat32Nodata(nodataOverride) : nodataOverride;
  } else if (nodataText !== null && nodataText.replace(/\0/g, '').trim() !== '') {
    nodata = parseGdalNodata(nodataText, { float32 });
    if (nodata === null) {
      throw invalid(name, `has a GDAL_NODATA tag that is not a number: ${JSON.stringify(nodataText.replace(/\0+$/, ''))}`, {
        hint: 'Fix it with `gdal_edit.py -a_nodata <value> file.tif`, or pass the nodata option to override it.',
      });
    }
  }
  const meta = parseGdalMetadata(text(await fd.loadValue(42112)) ?? '');
  const hasNames = meta.descriptions.slice(0, bandCount).some((d) => d);
  const info: RasterInfo = {
    grid: { width, height, transform: northUp, crs: crsFromGeoKeys(keys) },
    bandCount,
    dataType,
    nodata,
    georeferenced: gt !== null,
    ...(hasNames ? { bandNames: Array.from({ length: bandCount }, (_, i) => meta.descriptions[i] ?? '') } : {}),
    metadata: meta.metadata,
    bandMetadata: Array.from({ length: bandCount }, (_, i) => meta.bandMetadata[i] ?? {}),
    block: { width: image.getTileWidth(), height: image.getTileHeight(), tiled: image.isTiled },
    compression: Number(fd.getValue('Compression') ?? 1),
  };
  return info;
}

/**
 * Reads the header of a GeoTIFF: grid, band count, sample type, nodata, band names and block size,
 * without decoding cells. Throws `E_TIFF_INVALID` for anything that is not a readable north-up GeoTIFF.
 */
export async function readRasterInfo(source: ByteInput, opts: { name?: string } = {}): Promise<RasterInfo> {
  return (await openTiff(source, opts.name)).info;
}

/** An opened GeoTIFF: its header, and reads of windows / bands that reuse the parsed header and block table. */
export interface GeoTiffReader {
  readonly info: RasterInfo;
  /** Same as {@link readRaster} on this file (`name` is the one given when opening). */
  read(opts?: Omit<ReadRasterOptions, 'name'>): Promise<Raster>;
}

/**
 * Opens a GeoTIFF once for many reads (e.g. one window per tile). `nodata` overrides the file's nodata
 * for `info` and every read (an unparseable `GDAL_NODATA` is then not an error). The source is not closed.
 */
export async function openGeoTiff(source: ByteInput, opts: { name?: string; nodata?: number | null } = {}): Promise<GeoTiffReader> {
  const o = await openTiff(source, opts.name, opts.nodata);
  return { info: o.info, read: (readOpts = {}) => readOpened(o, readOpts) };
}

// ---------------------------------------------------------------------------------------------------
// reading cells

function outputBytes(dataType: SampleType, as: 'float32' | 'float64' | 'native'): number {
  if (as === 'float64') return 8;
  if (as === 'float32') return 4;
  return dataType === 'float64' ? 8 : dataType === 'float16' || dataType.endsWith('32') ? 4 : dataType.endsWith('16') ? 2 : 1;
}

function checkOptions(opts: ReadRasterOptions, info: RasterInfo): Problem[] {
  const problems: Problem[] = [];
  const { width, height } = info.grid;
  if (opts.bands !== undefined) {
    if (!Array.isArray(opts.bands) || opts.bands.length === 0) problems.push({ path: 'bands', message: 'must be a non-empty array of 0-based band indices' });
    else {
      opts.bands.forEach((b, i) => {
        if (!Number.isInteger(b) || b < 0 || b >= info.bandCount) {
          problems.push({ path: `bands[${i}]`, message: `is ${b}; the file has ${info.bandCount} band(s), indices 0..${info.bandCount - 1}` });
        }
      });
    }
  }
  if (opts.window !== undefined) {
    const w = opts.window;
    if (!Array.isArray(w) || w.length !== 4 || !w.every(Number.isInteger)) {
      problems.push({ path: 'window', message: `is ${JSON.stringify(w)}; must be four integers [x0, y0, x1, y1]` });
    } else {
      const [x0, y0, x1, y1] = w;
      if (!(x0 >= 0 && x0 < x1 && x1 <= width && y0 >= 0 && y0 < y1 && y1 <= height)) {
        problems.push({ path: 'window', message: `[${w.join(', ')}] is not inside the ${width}x${height} raster (need 0 <= x0 < x1 <= ${width}, 0 <= y0 < y1 <= ${height})` });
      }
    }
  }
  if (opts.as !== undefined && !['float32', 'float64', 'native'].includes(opts.as)) {
    problems.push({ path: 'as', message: `is ${JSON.stringify(opts.as)}; must be 'float32', 'float64' or 'native'` });
  }
  if (opts.maxCells !== undefined && !(opts.maxCells > 0)) problems.push({ path: 'maxCells', message: `is ${opts.maxCells}; must be > 0` });
  if (opts.nodata !== undefined && opts.nodata !== null && typeof opts.nodata !== 'number') {
    problems.push({ path: 'nodata', message: `is ${JSON.stringify(opts.nodata)}; must be a number or null` });
  }
  return problems;
}

/** Offsets and byte counts of every block, read in one go (with the file's byte order). */
async function blockTable(o: Opened, expected: number): Promise<{ offsets: ArrayLike<number>; counts: ArrayLike<number> }> {
  const fd = o.image.fileDirectory;
  const [offTag, cntTag] = o.image.isTiled ? [324, 325] : [273, 279];
  const load = async (tag: number): Promise<ArrayLike<number>> => {
    const deferred = fd.deferredArrays.get(tag);
    if (deferred) {
      // geotiff 3.0.5's DeferredArray decodes as little-endian whatever the file says; read it ourselves.
      const count = Math.min(deferred.length, expected);
      const size = deferred.itemSize;
      const buf = await o.adapter.read(deferred.arrayOffset, count * size);
      if (buf.byteLength < count * size) throw invalid(o.name, `is truncated inside its block table (tag ${tag})`);
      const view = new DataView(buf);
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) {
        const at = i * size;
        out[i] = size === 2 ? view.getUint16(at, o.littleEndian) : size === 4 ? view.getUint32(at, o.littleEndian) : Number(view.getBigUint64(at, o.littleEndian));
      }
      fd.actualizedFields.set(tag, out as unknown as number[]);
      fd.deferredArrays.delete(tag);
      return out;
    }
    const v = numbers(await fd.loadValue(tag));
    if (!v) throw invalid(o.name, `has no ${tag === 273 ? 'StripOffsets' : tag === 279 ? 'StripByteCounts' : tag === 324 ? 'TileOffsets' : 'TileByteCounts'} tag`);
    return v;
  };
  return { offsets: await load(offTag), counts: await load(cntTag) };
}

/** Refuses truncated files before decoding: every block the window needs must lie inside the file. */
async function checkBlocks(o: Opened, win: readonly [number, number, number, number], samples: number[]): Promise<void> {
  const { image, info } = o;
  const tw = image.getTileWidth();
  const th = image.getTileHeight();
  const across = Math.ceil(info.grid.width / tw);
  const down = Math.ceil(info.grid.height / th);
  const planes = image.planarConfiguration === 2 ? info.bandCount : 1;
  const { offsets, counts } = await blockTable(o, across * down * planes);
  const size = o.adapter.src.size;
  const planeList = planes > 1 ? [...new Set(samples)] : [0];
  for (const p of planeList) {
    for (let by = Math.floor(win[1] / th); by <= Math.floor((win[3] - 1) / th); by++) {
      for (let bx = Math.floor(win[0] / tw); bx <= Math.floor((win[2] - 1) / tw); bx++) {
        const idx = p * across * down + by * across + bx;
        if (idx >= offsets.length || idx >= counts.length) {
          throw invalid(o.name, `lists ${Math.min(offsets.length, counts.length)} data blocks but needs ${across * down * planes}; the file is corrupt`);
        }
        const end = offsets[idx]! + counts[idx]!;
        if (size !== undefined && counts[idx]! > 0 && end > size) {
          throw invalid(o.name, `is truncated: data block ${idx} ends at byte ${end} but the file has only ${size} bytes`, {
            hint: 'The file was cut short (interrupted download or copy); fetch or export it again.',
            details: { block: idx, end, size },
          });
        }
      }
    }
  }
}

function convert(a: BandArray, as: 'float32' | 'float64' | 'native'): BandArray {
  if (as === 'float32') return a instanceof Float32Array ? a : Float32Array.from(a as ArrayLike<number>);
  if (as === 'float64') return a instanceof Float64Array ? a : Float64Array.from(a as ArrayLike<number>);
  return a;
}

/**
 * Reads bands of a GeoTIFF (all, or a window) into a {@link Raster}.
 *
 * Bands are row-major, `grid.width * grid.height` long; the grid is the window's (its origin moved to the
 * window's top-left corner). Nodata is the file's (`GDAL_NODATA`) unless `opts.nodata` overrides it, and is
 * expressed in the returned array type (rounded to float32 for Float32Array bands, so comparisons match).
 * The returned arrays are fresh and owned by the caller. The source is not closed.
 *
 * Errors: `E_TIFF_INVALID` (not a TIFF, truncated, empty, rotated, unsupported type), `E_LIMIT` (more than
 * `maxCells` cells), `E_USAGE` (bad options, all listed at once).
 */
export async function readRaster(source: ByteInput, opts: ReadRasterOptions = {}): Promise<Raster> {
  return readOpened(await openTiff(source, opts.name, opts.nodata), opts);
}

async function readOpened(o: Opened, opts: Omit<ReadRasterOptions, 'name'>): Promise<Raster> {
  const { info, name } = o;
  const problems = checkOptions(opts, info);
  if (problems.length) {
    const e = IbfError.fromProblems('E_USAGE', `cannot read ${name} with these options`, problems, 'Band indices are 0-based; windows are [x0, y0, x1, y1] in cells, end exclusive.');
    throw e;
  }
  const as = opts.as ?? 'native';
  const bands = opts.bands ?? Array.from({ length: info.bandCount }, (_, i) => i);
  const win = opts.window ?? ([0, 0, info.grid.width, info.grid.height] as const);
  const w = win[2] - win[0];
  const h = win[3] - win[1];
  const bytes = outputBytes(info.dataType, as);
  const maxCells = opts.maxCells ?? Math.floor(2 ** 31 / bytes);
  const cells = w * h * bands.length;
  if (cells > maxCells) {
    throw new IbfError('E_LIMIT', `${name}: reading ${w}x${h} cells x ${bands.length} band(s) = ${cells} cells exceeds the limit of ${maxCells} cells`, {
      hint: 'Read a window (opts.window) or fewer bands at a time, or raise opts.maxCells if the memory is there.',
      details: { source: name, cells, maxCells },
    });
  }
  const blockCells = info.block.width * info.block.height * (o.image.planarConfiguration === 2 ? 1 : info.bandCount);
  if (blockCells > Math.max(maxCells, 2 ** 24)) {
    throw new IbfError('E_LIMIT', `${name}: one internal block is ${info.block.width}x${info.block.height} cells, more than the limit of ${maxCells} cells`, {
      hint: 'Re-tile the file, e.g. `gdal_translate -of COG in.tif out.tif` (512x512 blocks).',
      details: { source: name, block: info.block },
    });
  }
  let arrays: BandArray[];
  try {
    await checkBlocks(o, win, bands);
    const result = await o.image.readRasters({ window: [...win], samples: [...bands], interleave: false });
    arrays = Array.from(result as unknown as BandArray[]);
  } catch (e) {
    throw wrap(e, name, 'decode the cells');
  }
  if (arrays.length !== bands.length || arrays.some((a) => a.length !== w * h)) {
    throw invalid(name, `decoded to ${arrays.length} band(s) of ${arrays[0]?.length ?? 0} cells, expected ${bands.length} of ${w * h}`);
  }
  const out = arrays.map((a) => convert(a, as));
  // nodata as the cells hold it: first in the file's type (as GDAL does), then in the output array's type
  const fileFloat32 = info.dataType === 'float32' || info.dataType === 'float16';
  const override = opts.nodata === undefined || opts.nodata === null ? opts.nodata : fileFloat32 ? toFloat32Nodata(opts.nodata) : opts.nodata;
  const fileNodata = override !== undefined ? override : info.nodata; // info.nodata: the file's, or the open-time override
  const nodata = fileNodata === null ? null : out[0] instanceof Float32Array ? toFloat32Nodata(fileNodata) : fileNodata;
  const [x0, dx, , y0, , dy] = info.grid.transform;
  const grid: Grid = {
    width: w,
    height: h,
    transform: [x0 + win[0] * dx, dx, 0, y0 + win[1] * dy, 0, dy],
    crs: info.grid.crs,
  };
  return {
    grid,
    bands: out,
    nodata,
    ...(info.bandNames ? { bandNames: bands.map((b) => info.bandNames![b] ?? '') } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------
// writing

export interface WriteGeoTiffOptions {
  /** Band descriptions (GDAL `SetDescription`), one per band. Default: the raster's `bandNames`. */
  bandNames?: string[];
  /** Per-band metadata items, e.g. `[{ return_period: '2' }, ...]`, stored in `GDAL_METADATA`. */
  bandMetadata?: Record<string, string>[];
  /** Dataset metadata items stored in `GDAL_METADATA`. */
  metadata?: Record<string, string>;
  /**
   * Whether `EPSG:nnnn` is a geographic (lon/lat) or projected CRS. Default: geographic for codes
   * 4000..4999 (EPSG's block of geographic CRSs) except 4087/4088, projected otherwise.
   */
  crsType?: 'geographic' | 'projected';
}

/**
 * Encodes a raster as an uncompressed, georeferenced GeoTIFF that GDAL reads: ModelPixelScale +
 * ModelTiepoint (ModelTransformation for south-up or rotated grids), GeoKeys for an `EPSG:nnnn` CRS,
 * `GDAL_NODATA` (NaN as `nan`), band descriptions and metadata in `GDAL_METADATA`; bands stored
 * band-interleaved in strips of ~64 KiB. Reads back with {@link readRaster} to identical grid, values
 * and nodata. The raster is not modified; the result is a new buffer owned by the caller.
 */
export function writeGeoTiff(raster: Raster, opts: WriteGeoTiffOptions = {}): ArrayBuffer {
  const { grid } = raster;
  const t = grid.transform;
  const problems: Problem[] = [];
  if (!t.every(Number.isFinite) || t[1] === 0 || t[5] === 0) problems.push({ path: 'grid.transform', message: `[${t.join(', ')}] is not a valid geotransform` });
  let code: number | null = null;
  if (grid.crs !== null) {
    code = epsgCode(grid.crs);
    if (code === null) problems.push({ path: 'grid.crs', message: `is ${JSON.stringify(grid.crs)}; only EPSG:nnnn codes (or null) can be written` });
  }
  const names = opts.bandNames ?? raster.bandNames;
  if (names && names.length !== raster.bands.length) problems.push({ path: 'bandNames', message: `has ${names.length} names for ${raster.bands.length} bands` });
  if (raster.nodata !== null && typeof raster.nodata !== 'number') problems.push({ path: 'nodata', message: `is ${JSON.stringify(raster.nodata)}; must be a number or null` });
  if (problems.length) throw IbfError.fromProblems('E_USAGE', 'cannot write this raster as a GeoTIFF', problems);

  const tags: TiffTag[] = [];
  if (t[2] === 0 && t[4] === 0 && t[1] > 0 && t[5] < 0) {
    tags.push({ tag: 33550, type: 'DOUBLE', value: [t[1], -t[5], 0] });
    tags.push({ tag: 33922, type: 'DOUBLE', value: [0, 0, 0, t[0], t[3], 0] });
  } else {
    tags.push({ tag: 34264, type: 'DOUBLE', value: [t[1], t[2], 0, t[0], t[4], t[5], 0, t[3], 0, 0, 0, 0, 0, 0, 0, 1] });
  }
  if (code !== null) {
    const geographic = opts.crsType ? opts.crsType === 'geographic' : code >= 4000 && code <= 4999 && code !== 4087 && code !== 4088;
    tags.push({
      tag: 34735,
      type: 'SHORT',
      value: [1, 1, 0, 3, GT_MODEL_TYPE, 0, 1, geographic ? 2 : 1, GT_RASTER_TYPE, 0, 1, 1, geographic ? GEOGRAPHIC_TYPE : PROJECTED_CS_TYPE, 0, 1, code],
    });
  }
  const xml = buildGdalMetadata({ metadata: opts.metadata, bandMetadata: opts.bandMetadata, descriptions: names });
  if (xml) tags.push({ tag: 42112, type: 'ASCII', value: xml });
  if (raster.nodata !== null) tags.push({ tag: 42113, type: 'ASCII', value: formatGdalNodata(raster.nodata) });
  return encodeTiff({ width: grid.width, height: grid.height, bands: raster.bands, tags });
}
