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
 *
 * geotiff 3.0.5 decompresses the blocks; `io/tiff-decode` corrects what it gets wrong for files GDAL writes
 * (Predictor 2 on big-endian or 64-bit samples, NaN cells of LERC blocks, sparse blocks of NaN-nodata or
 * big-endian files), and what it cannot decode (LZMA, Int64, ZSTD/LERC where WebAssembly cannot be compiled,
 * e.g. Cloudflare Workers) is refused up front with the `gdal_translate` command that converts it.
 */
import { GeoTIFF, getDecoder, type GeoTIFFImage } from 'geotiff';
import { IbfError, type Problem } from '../errors.js';
import type { GeoTransform, Grid } from '../model/grid.js';
import type { BandArray, Raster } from '../model/raster.js';
import { toByteSource, type ByteInput, type ByteSource } from './byte-source.js';
import { geoTiffTags, parseGdalMetadata, parseGdalNodata, toFloat32Nodata } from './gdal-tags.js';
import { encodeTiff } from './tiff-writer.js';
import { PURE_JS_COMPRESSIONS, WASM_COMPRESSIONS, compressionName, lercInvalidCells, undoHorizontalDifferencing } from './tiff-decode.js';
import {
  GT_RASTER_TYPE,
  SourceAdapter,
  crsFromGeoKeys,
  geoKeys,
  geoTransform,
  invalid,
  isAbort,
  numbers,
  sampleType,
  scanIfds,
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
  /**
   * GDAL scale of each band (`gdal_translate -a_scale`), when the file gives one for any band (1 for the others;
   * NaN where the file's text is not a number): reads return `raw * scale + offset`. Unit: {@link RasterInfo.units}.
   */
  scale?: number[];
  /** GDAL offset of each band (`-a_offset`), when the file gives one for any band (0 for the others). */
  offset?: number[];
  /** Unit of each band (GDAL `SetUnitType`, e.g. `m`), when any band has one; `''` for the others. */
  units?: string[];
  /** Internal block (tile, or strip of full width) size in cells: read windows aligned to it. */
  block: { width: number; height: number; tiled: boolean };
  /** TIFF Compression code (1 none, 5 LZW, 8 DEFLATE, 50000 ZSTD, 34887 LERC, ...). */
  compression: number;
  /**
   * Reduced-resolution images stored in the file (COG overviews, `gdaladdo` internal overviews), largest
   * first, in cells; read one with `opts.overview` (its index here). Empty when there are none.
   */
  overviews: { width: number; height: number }[];
  /** Size of the file in bytes, when the source knows it. */
  byteSize?: number;
}

export interface ReadRasterOptions {
  /** 0-based band indices to read, in this order (GDAL band 1 is index 0). Default: all bands. */
  bands?: number[];
  /**
   * Cell window `[x0, y0, x1, y1]`: columns x0..x1-1, rows y0..y1-1, in cells of the image read (the
   * overview's cells when `overview` is set). Default: the whole image.
   */
  window?: readonly [number, number, number, number];
  /**
   * Reads an overview instead of the full-resolution image: an index into {@link RasterInfo.overviews}
   * (0 = the largest, as `gdal_translate -ovr 0`). Default: the full-resolution image (never an overview).
   * The grid's cell size is the full extent divided by the overview size, as GDAL computes it.
   */
  overview?: number;
  /** Overrides the file's nodata (in stored values, before scale / offset): a value, or null for "every finite value is data". */
  nodata?: number | null;
  /**
   * Overrides the file's GDAL scale: one number for every band, or one per band of the file (GDAL order).
   * With a scale or offset other than 1 / 0, each value becomes `raw * scale + offset` after nodata masking:
   * bands are then float (float64 unless `as: 'float32'`), nodata cells are NaN and `nodata` is NaN.
   * Pass `scale: 1, offset: 0` to read the stored values of a scaled file.
   */
  scale?: number | readonly number[];
  /** Overrides the file's GDAL offset, like `scale`. */
  offset?: number | readonly number[];
  /**
   * Array type of the bands: the file's (`native`, default), or converted to float32 / float64.
   * Default float64 when a scale / offset applies; `native` is then refused.
   */
  as?: 'float32' | 'float64' | 'native';
  /** Name used in messages (file path, object key). Default: the source's name. */
  name?: string;
  /**
   * Most cells (width x height x bands of the window) to allocate. Default: 2^31 bytes' worth of the
   * output sample type (2^28 cells of float64). Larger requests throw `E_LIMIT` before any allocation.
   */
  maxCells?: number;
  /**
   * Arrays to fill instead of allocating new ones: one per band read, each exactly window width x height
   * cells, of the output type (`Float32Array` for `as: 'float32'`, `Float64Array` for `'float64'`, the
   * file's type for `'native'`). A caller reading many windows (a tile loop) reuses its buffers this way.
   * The raster returned holds these arrays.
   */
  into?: BandArray[];
}

type GeoTiffSource = Parameters<typeof GeoTIFF.fromSource>[0];
type GeoTiffPool = NonNullable<NonNullable<Parameters<GeoTIFFImage['readRasters']>[0]>['pool']>;

// ---------------------------------------------------------------------------------------------------
// opening and describing

interface Opened {
  name: string;
  adapter: SourceAdapter;
  tiff: GeoTIFF;
  image: GeoTIFFImage;
  littleEndian: boolean;
  info: RasterInfo;
  /** The file's own nodata (GDAL fills sparse blocks with it), whatever the open-time override says. */
  fileNodata: number | null;
  /** IFD index of each entry of `info.overviews`. */
  overviewIfds: number[];
}

async function openTiff(input: ByteInput, nameOpt: string | undefined, nodataOverride?: number | null): Promise<Opened> {
  let src: ByteSource;
  try {
    src = toByteSource(input);
  } catch (e) {
    throw new IbfError('E_USAGE', `cannot read a GeoTIFF from ${Object.prototype.toString.call(input)}`, {
      hint: 'Pass an ArrayBuffer, Uint8Array, Blob or ByteSource (use io/node fileByteSource for paths, io/http httpByteSource for URLs).',
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
  const ifds = await scanIfds(adapter, head, name).catch((e: unknown) => {
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
    const { info, fileNodata } = await describe(image, name, nodataOverride);
    // overviews: reduced-resolution IFDs (NewSubfileType bit 0) that are not masks (bit 2), largest first
    const full = ifds[0]!;
    const overviewIfds = ifds
      .map((d, i) => ({ ...d, i }))
      .filter((d) => d.i > 0 && (d.subfileType & 1) === 1 && (d.subfileType & 4) === 0 && d.width > 0 && d.height > 0 && d.width <= full.width && d.height <= full.height)
      .sort((a, b) => b.width - a.width || b.height - a.height);
    info.overviews = overviewIfds.map((d) => ({ width: d.width, height: d.height }));
    if (src.size !== undefined) info.byteSize = src.size;
    return { name, adapter, tiff, image, littleEndian: tiff.littleEndian, info, fileNodata, overviewIfds: overviewIfds.map((d) => d.i) };
  } catch (e) {
    throw wrap(e, name, 'read the GeoTIFF tags');
  }
}

/** Most bands a TIFF can hold (SamplesPerPixel is a 16-bit SHORT). */
const MAX_BANDS = 65535;

const GDAL_TYPE_NAMES: Record<string, string> = { '2:64': 'Int64', '1:64': 'UInt64', '5:32': 'CInt16', '5:64': 'CInt32', '6:64': 'CFloat32', '6:128': 'CFloat64' };

/** Parses GDAL scale / offset texts of the first `n` bands (NaN where unparseable); null when none is given. */
function numbersPerBand(texts: (string | undefined)[], n: number, fallback: number): number[] | null {
  if (!texts.slice(0, n).some((t) => t !== undefined && t.trim() !== '')) return null;
  return Array.from({ length: n }, (_, i) => {
    const t = texts[i]?.trim();
    if (t === undefined || t === '') return fallback;
    const v = Number(t);
    return Number.isFinite(v) ? v : NaN;
  });
}

/** Header of the first image as {@link RasterInfo}; refuses what the engine cannot use (rotated, GCPs, odd types). */
async function describe(image: GeoTIFFImage, name: string, nodataOverride: number | null | undefined): Promise<{ info: RasterInfo; fileNodata: number | null }> {
  const fd = image.fileDirectory;
  const width = image.getWidth();
  const height = image.getHeight();
  const bandCount = image.getSamplesPerPixel();
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || !Number.isSafeInteger(bandCount) || width < 1 || height < 1 || bandCount < 1) {
    const show = (v: unknown) => (typeof v === 'number' ? String(v) : 'several values');
    throw invalid(name, `claims an impossible size of ${show(width)}x${show(height)} cells and ${show(bandCount)} bands`);
  }
  // SamplesPerPixel is a SHORT in TIFF 6.0; a larger claim (a corrupt type or value) would size per-band arrays below
  if (bandCount > MAX_BANDS) {
    throw invalid(name, `claims ${bandCount} bands; a TIFF holds at most ${MAX_BANDS} (SamplesPerPixel is 16-bit), so the file is corrupt`);
  }
  // block loops step by the block size: 0, a fraction or NaN (RowsPerStrip 0, a DOUBLE tag) would never end
  const blockW = image.getTileWidth();
  const blockH = image.getTileHeight();
  if (!Number.isSafeInteger(blockW) || !Number.isSafeInteger(blockH) || blockW < 1 || blockH < 1) {
    const show = (v: unknown) => (typeof v === 'number' ? String(v) : 'several values');
    throw invalid(name, `claims an impossible block (tile or strip) size of ${show(blockW)}x${show(blockH)} cells`);
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
    const gdalType = GDAL_TYPE_NAMES[`${format}:${bits}`];
    const hint =
      gdalType === 'Int64' || gdalType === 'UInt64'
        ? `geotiff 3.0.5 cannot decode 64-bit integers. Convert them: \`gdal_translate -ot Float64 in.tif out.tif\` (exact up to 2^53), or \`-ot ${gdalType === 'Int64' ? 'Int32' : 'UInt32'}\` if the values fit.`
        : 'Convert it to a supported type, e.g. `gdal_translate -ot Float64 in.tif out.tif` (types: uint8..uint32, int8..int32, float16/32/64).';
    throw invalid(name, `has ${gdalType ? `${gdalType} cells (${bits}-bit ${kind})` : `${bits}-bit ${kind} cells`}, which are not supported`, {
      hint,
      details: { sampleFormat: format, bitsPerSample: bits, ...(gdalType ? { gdalType } : {}) },
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
  let fileNodata: number | null = null;
  let nodataError: IbfError | null = null;
  if (nodataText !== null && nodataText.replace(/\0/g, '').trim() !== '') {
    fileNodata = parseGdalNodata(nodataText, { float32 });
    if (fileNodata === null) {
      nodataError = invalid(name, `has a GDAL_NODATA tag that is not a number: ${JSON.stringify(nodataText.replace(/\0+$/, ''))}`, {
        hint: 'Fix it with `gdal_edit.py -a_nodata <value> file.tif`, or pass the nodata option to override it.',
      });
    }
  }
  let nodata: number | null;
  if (nodataOverride !== undefined) nodata = nodataOverride === null ? null : float32 ? toFloat32Nodata(nodataOverride) : nodataOverride;
  else if (nodataError) throw nodataError;
  else nodata = fileNodata;
  const meta = parseGdalMetadata(text(await fd.loadValue(42112)) ?? '');
  const hasNames = meta.descriptions.slice(0, bandCount).some((d) => d);
  const scale = numbersPerBand(meta.scales, bandCount, 1);
  const offset = numbersPerBand(meta.offsets, bandCount, 0);
  const hasUnits = meta.units.slice(0, bandCount).some((u) => u);
  const info: RasterInfo = {
    grid: { width, height, transform: northUp, crs: crsFromGeoKeys(keys) },
    bandCount,
    dataType,
    nodata,
    georeferenced: gt !== null,
    ...(hasNames ? { bandNames: Array.from({ length: bandCount }, (_, i) => meta.descriptions[i] ?? '') } : {}),
    metadata: meta.metadata,
    bandMetadata: Array.from({ length: bandCount }, (_, i) => meta.bandMetadata[i] ?? {}),
    ...(scale ? { scale } : {}),
    ...(offset ? { offset } : {}),
    ...(hasUnits ? { units: Array.from({ length: bandCount }, (_, i) => meta.units[i] ?? '') } : {}),
    block: { width: image.getTileWidth(), height: image.getTileHeight(), tiled: image.isTiled },
    compression: Number(fd.getValue('Compression') ?? 1),
    overviews: [],
  };
  return { info, fileNodata: nodataError ? null : fileNodata };
}

/**
 * Reads the header of a GeoTIFF: grid, band count, sample type, nodata, scale / offset, band names, block
 * size and overviews, without decoding cells. Throws `E_TIFF_INVALID` for anything that is not a readable
 * north-up GeoTIFF.
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
// decoding blocks

function outputBytes(dataType: SampleType, as: 'float32' | 'float64' | 'native'): number {
  if (as === 'float64') return 8;
  if (as === 'float32') return 4;
  return dataType === 'float64' ? 8 : dataType === 'float16' || dataType.endsWith('32') ? 4 : dataType.endsWith('16') ? 2 : 1;
}

let wasmCompiles: boolean | undefined;

/** Whether this runtime compiles WebAssembly from bytes (Cloudflare Workers and strict CSPs do not). */
function canCompileWasm(): boolean {
  if (wasmCompiles === undefined) {
    try {
      // Reflect.construct: the Workers types declare Module abstract, for this very reason
      Reflect.construct(WebAssembly.Module, [new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00])]);
      wasmCompiles = true;
    } catch {
      wasmCompiles = false;
    }
  }
  return wasmCompiles;
}

const REENCODE =
  'Re-encode it with DEFLATE or LZW, which decode everywhere: `gdal_translate -co COMPRESS=DEFLATE -co PREDICTOR=2 in.tif out.tif` ' +
  '(PREDICTOR=3 for float data; for a COG: `gdal_translate -of COG -co COMPRESS=DEFLATE in.tif out.tif`).';

/** Refuses, before any block is read, compressions and layouts geotiff cannot decode (or decodes wrongly) here. */
function checkDecodable(name: string, fd: GeoTIFFImage['fileDirectory'], info: RasterInfo, littleEndian: boolean): void {
  const code = Number(fd.getValue('Compression') ?? 1);
  const label = `${compressionName(code)} (TIFF compression ${code})`;
  if (WASM_COMPRESSIONS.has(code)) {
    if (!canCompileWasm()) {
      const work = [...PURE_JS_COMPRESSIONS].filter((c) => c !== 32946).map((c) => (c === 1 ? 'uncompressed' : compressionName(c))).join(', ');
      throw invalid(name, `is compressed with ${label}, whose decoder compiles WebAssembly at run time, which this runtime forbids (Cloudflare Workers do); these decode here: ${work}`, {
        hint: REENCODE,
        details: { compression: code },
      });
    }
    if (code === 34887 && !littleEndian && info.dataType.startsWith('float')) {
      throw invalid(name, `holds big-endian float cells compressed with LERC, which neither geotiff nor GDAL 3.6 decode reliably`, { hint: REENCODE, details: { compression: code } });
    }
    if (code === 34887 && info.dataType === 'uint32') {
      throw invalid(name, `holds UInt32 cells compressed with LERC, which geotiff 3.0.5 cannot decode (a bug in its LERC decoder)`, { hint: REENCODE, details: { compression: code } });
    }
    return;
  }
  const webp = code === 50001 && typeof (globalThis as { createImageBitmap?: unknown }).createImageBitmap === 'function';
  if (!PURE_JS_COMPRESSIONS.has(code) && code !== 7 && !webp) {
    throw invalid(name, `is compressed with ${label}, which geotiff cannot decode${code === 50001 ? ' outside a browser' : ''}`, {
      hint: REENCODE,
      details: { compression: code },
    });
  }
}

interface BlockDecoder {
  decode(buffer: ArrayBuffer): Promise<ArrayBuffer>;
}

/**
 * Stands in for geotiff's worker `Pool` (`readRasters({ pool })`), decoding inline: geotiff's decompressor,
 * then the fixes of io/tiff-decode. A decoder that fails to load (e.g. ZSTD without WebAssembly) becomes an
 * IbfError naming the compression.
 */
function blockDecoding(o: Opened, image: GeoTIFFImage) {
  const float = o.info.dataType.startsWith('float');
  return {
    bindParameters(compression: number, params: Record<string, unknown>): BlockDecoder {
      const predictor = Number(params.predictor ?? 1);
      const ours = predictor === 2; // geotiff's Predictor 2 is wrong for big-endian files and refuses 64-bit samples
      const load = (code: number, p: Record<string, unknown>): Promise<BlockDecoder> =>
        (getDecoder(code, p as unknown as Parameters<typeof getDecoder>[1]) as Promise<unknown> as Promise<BlockDecoder>).catch((e: unknown) => {
          throw invalid(o.name, `is compressed with ${compressionName(code)} (TIFF compression ${code}), and its decoder cannot be loaded here (${e instanceof Error ? e.message : String(e)})`, {
            hint: REENCODE,
            cause: e,
            details: { compression: code },
          });
        });
      let main: Promise<BlockDecoder> | undefined;
      let unwrap: Promise<BlockDecoder> | undefined;
      return {
        async decode(buffer: ArrayBuffer): Promise<ArrayBuffer> {
          main ??= load(compression, ours ? { ...params, predictor: 1 } : params);
          const out = await (await main).decode(buffer);
          if (ours) {
            const bits = numbers(params.bitsPerSample) ?? [8];
            undoHorizontalDifferencing(out, {
              width: Number(params.tileWidth),
              height: Number(params.tileHeight),
              bitsPerSample: bits[0]!,
              samples: image.planarConfiguration === 2 ? 1 : bits.length,
              littleEndian: o.littleEndian,
            });
          }
          if (compression === 34887 && float) {
            // GDAL stores NaN float cells as a LERC validity mask; geotiff leaves them at 0
            const extra = numbers(params.LercParameters)?.[1] ?? 0;
            let blob = buffer;
            if (extra === 1 || extra === 2) {
              unwrap ??= load(extra === 1 ? 8 : 50000, { ...params, predictor: 1 });
              blob = await (await unwrap).decode(buffer);
            }
            const bad = lercInvalidCells(blob);
            if (bad) {
              const per = image.planarConfiguration === 2 ? 1 : image.getSamplesPerPixel();
              const cells = new (o.info.dataType === 'float64' ? Float64Array : Float32Array)(out, 0, bad.length * per);
              for (let k = 0; k < bad.length; k++) if (bad[k]) cells.fill(NaN, k * per, k * per + per);
            }
          }
          return out;
        },
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// reading cells

function perBand(v: number | readonly number[] | undefined, path: string, bandCount: number, problems: Problem[]): void {
  if (v === undefined) return;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) problems.push({ path, message: `is ${v}; must be a finite number` });
    return;
  }
  if (!Array.isArray(v) || v.length !== bandCount) {
    problems.push({ path, message: `must be a number or an array of ${bandCount} numbers (one per band of the file)` });
    return;
  }
  v.forEach((x, i) => {
    if (typeof x !== 'number' || !Number.isFinite(x)) problems.push({ path: `${path}[${i}]`, message: `is ${JSON.stringify(x)}; must be a finite number` });
  });
}

function checkOptions(opts: ReadRasterOptions, info: RasterInfo): Problem[] {
  const problems: Problem[] = [];
  let { width, height } = info.grid;
  if (opts.overview !== undefined) {
    const n = info.overviews.length;
    if (!Number.isInteger(opts.overview) || opts.overview < 0 || opts.overview >= n) {
      problems.push({ path: 'overview', message: n ? `is ${opts.overview}; the file has ${n} overview(s), indices 0..${n - 1}` : `is ${opts.overview}; the file has no overviews (add some with \`gdaladdo\`, or write a COG)` });
    } else {
      ({ width, height } = info.overviews[opts.overview]!);
    }
  }
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
        problems.push({ path: 'window', message: `[${w.join(', ')}] is not inside the ${width}x${height} ${opts.overview === undefined ? 'raster' : 'overview'} (need 0 <= x0 < x1 <= ${width}, 0 <= y0 < y1 <= ${height})` });
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
  perBand(opts.scale, 'scale', info.bandCount, problems);
  perBand(opts.offset, 'offset', info.bandCount, problems);
  return problems;
}

interface Level {
  image: GeoTIFFImage;
  width: number;
  height: number;
  transform: GeoTransform;
}

/** The full-resolution image, or overview `index` of {@link RasterInfo.overviews} with GDAL's overview geotransform. */
async function level(o: Opened, index: number | undefined): Promise<Level> {
  const { grid } = o.info;
  if (index === undefined) return { image: o.image, width: grid.width, height: grid.height, transform: grid.transform };
  let image: GeoTIFFImage;
  try {
    image = await o.tiff.getImage(o.overviewIfds[index]!);
  } catch (e) {
    throw wrap(e, o.name, `parse overview ${index}`);
  }
  const same = (tag: 'BitsPerSample' | 'SampleFormat') => String(numbers(image.fileDirectory.getValue(tag)) ?? [1]) === String(numbers(o.image.fileDirectory.getValue(tag)) ?? [1]);
  if (image.getSamplesPerPixel() !== o.info.bandCount || !same('BitsPerSample') || !same('SampleFormat')) {
    throw invalid(o.name, `has an overview ${index} whose bands or sample type differ from the full-resolution image`, {
      hint: 'Rebuild the overviews: `gdaladdo -clean file.tif && gdaladdo file.tif`, or write a COG with `gdal_translate -of COG`.',
    });
  }
  const width = image.getWidth();
  const height = image.getHeight();
  const [x0, dx, , y0, , dy] = grid.transform;
  return { image, width, height, transform: [x0, (dx * grid.width) / width, 0, y0, 0, (dy * grid.height) / height] };
}

/** Offsets and byte counts of every block, read in one go (with the file's byte order). */
async function blockTable(o: Opened, image: GeoTIFFImage, expected: number): Promise<{ offsets: ArrayLike<number>; counts: ArrayLike<number> }> {
  const fd = image.fileDirectory;
  const [offTag, cntTag] = image.isTiled ? [324, 325] : [273, 279];
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

/** A block the file leaves out (byte count 0, GDAL `SPARSE_OK`): its cells read as the file's nodata, or 0. */
interface SparseBlock {
  plane: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * Refuses truncated files before decoding (every block the window needs must lie inside the file) and
 * lists the sparse blocks among them.
 */
async function checkBlocks(o: Opened, lv: Level, win: readonly [number, number, number, number], samples: number[]): Promise<SparseBlock[]> {
  const { image } = lv;
  const tw = image.getTileWidth();
  const th = image.getTileHeight();
  const across = Math.ceil(lv.width / tw);
  const down = Math.ceil(lv.height / th);
  const planes = image.planarConfiguration === 2 ? o.info.bandCount : 1;
  const { offsets, counts } = await blockTable(o, image, across * down * planes);
  const size = o.adapter.src.size;
  const planeList = planes > 1 ? [...new Set(samples)] : [0];
  const sparse: SparseBlock[] = [];
  for (const p of planeList) {
    for (let by = Math.floor(win[1] / th); by <= Math.floor((win[3] - 1) / th); by++) {
      for (let bx = Math.floor(win[0] / tw); bx <= Math.floor((win[2] - 1) / tw); bx++) {
        const idx = p * across * down + by * across + bx;
        if (idx >= offsets.length || idx >= counts.length) {
          throw invalid(o.name, `lists ${Math.min(offsets.length, counts.length)} data blocks but needs ${across * down * planes}; the file is corrupt`);
        }
        const end = offsets[idx]! + counts[idx]!;
        if (counts[idx] === 0) sparse.push({ plane: planes > 1 ? p : -1, x0: bx * tw, y0: by * th, x1: (bx + 1) * tw, y1: (by + 1) * th });
        else if (size !== undefined && end > size) {
          throw invalid(o.name, `is truncated: data block ${idx} ends at byte ${end} but the file has only ${size} bytes`, {
            hint: 'The file was cut short (interrupted download or copy); fetch or export it again.',
            details: { block: idx, end, size },
          });
        }
      }
    }
  }
  return sparse;
}

/** Sets the cells of sparse blocks to `fill`, as GDAL reads them (geotiff gives 0 for NaN nodata, and swaps bytes of big-endian files). */
function fillSparse(arrays: BandArray[], bands: number[], win: readonly [number, number, number, number], sparse: SparseBlock[], fill: number): void {
  const w = win[2] - win[0];
  for (const b of sparse) {
    const x0 = Math.max(b.x0, win[0]);
    const x1 = Math.min(b.x1, win[2]);
    const y0 = Math.max(b.y0, win[1]);
    const y1 = Math.min(b.y1, win[3]);
    bands.forEach((band, j) => {
      if (b.plane !== -1 && b.plane !== band) return;
      const a = arrays[j]!;
      for (let y = y0; y < y1; y++) a.fill(fill, (y - win[1]) * w + (x0 - win[0]), (y - win[1]) * w + (x1 - win[0]));
    });
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
 * GDAL scale / offset (the file's, or `opts.scale` / `opts.offset`) are applied after nodata masking.
 * Always the full-resolution image unless `opts.overview` picks an overview.
 * The returned arrays are fresh and owned by the caller. The source is not closed.
 *
 * Errors: `E_TIFF_INVALID` (not a TIFF, truncated, empty, rotated, unsupported type or compression),
 * `E_LIMIT` (more than `maxCells` cells), `E_USAGE` (bad options, all listed at once). Errors of the source
 * (e.g. `E_INPUT_NOT_FOUND` from an HTTP source) pass through, and so does an abort.
 */
export async function readRaster(source: ByteInput, opts: ReadRasterOptions = {}): Promise<Raster> {
  return readOpened(await openTiff(source, opts.name, opts.nodata), opts);
}

async function readOpened(o: Opened, opts: Omit<ReadRasterOptions, 'name'>): Promise<Raster> {
  const { info, name } = o;
  const problems = checkOptions(opts, info);
  const bands = opts.bands ?? Array.from({ length: info.bandCount }, (_, i) => i);
  const pick = (v: number | readonly number[] | undefined, file: number[] | undefined, dflt: number) =>
    bands.map((b) => (typeof v === 'number' ? v : v !== undefined ? v[b]! : (file?.[b] ?? dflt)));
  const scales = problems.length ? [] : pick(opts.scale, info.scale, 1);
  const offsets = problems.length ? [] : pick(opts.offset, info.offset, 0);
  const junk = [...scales, ...offsets].some((v) => Number.isNaN(v));
  if (junk) {
    throw invalid(name, `has a GDAL scale or offset that is not a number (scale ${scales.join(',')}, offset ${offsets.join(',')} for band(s) ${bands.map((b) => b + 1).join(',')})`, {
      hint: 'Fix it with `gdal_edit.py -scale <value> -offset <value> file.tif`, or pass the scale and offset options to override it.',
    });
  }
  const unscale = scales.some((s) => s !== 1) || offsets.some((s) => s !== 0);
  if (unscale && opts.as === 'native') {
    problems.push({ path: 'as', message: `is 'native', but a scale / offset applies (scale ${scales.join(',')}, offset ${offsets.join(',')}), which gives fractional values; use 'float32' or 'float64', or pass scale: 1, offset: 0 for the stored values` });
  }
  if (problems.length) {
    throw IbfError.fromProblems('E_USAGE', `cannot read ${name} with these options`, problems, 'Band indices are 0-based; windows are [x0, y0, x1, y1] in cells, end exclusive.');
  }
  const as = opts.as ?? (unscale ? 'float64' : 'native');
  const lv = await level(o, opts.overview);
  const win = opts.window ?? ([0, 0, lv.width, lv.height] as const);
  const w = win[2] - win[0];
  const h = win[3] - win[1];
  const bytes = outputBytes(info.dataType, as);
  const maxCells = opts.maxCells ?? Math.floor(2 ** 31 / bytes);
  const cells = w * h * bands.length;
  if (cells > maxCells) {
    throw new IbfError('E_LIMIT', `${name}: reading ${w}x${h} cells x ${bands.length} band(s) = ${cells} cells exceeds the limit of ${maxCells} cells (raise it with the maxCells option)`, {
      hint: 'Read a window (opts.window) or fewer bands at a time, or raise opts.maxCells if the memory is there.',
      details: { source: name, cells, maxCells },
    });
  }
  const tw = lv.image.getTileWidth();
  const th = lv.image.getTileHeight();
  const blockCells = tw * th * (lv.image.planarConfiguration === 2 ? 1 : info.bandCount);
  if (blockCells > Math.max(maxCells, 2 ** 24)) {
    throw new IbfError('E_LIMIT', `${name}: one internal block is ${tw}x${th} cells, more than the limit of ${maxCells} cells (raise it with the maxCells option)`, {
      hint: 'Re-tile the file, e.g. `gdal_translate -of COG in.tif out.tif` (512x512 blocks).',
      details: { source: name, block: { width: tw, height: th } },
    });
  }
  checkDecodable(name, lv.image.fileDirectory, info, o.littleEndian);
  const into = opts.into;
  if (into) checkInto(into, bands.length, w * h, as === 'float32' ? Float32Array : as === 'float64' ? Float64Array : ROW_ARRAYS[info.dataType]);
  let arrays: BandArray[];
  let sparse: SparseBlock[];
  try {
    sparse = await checkBlocks(o, lv, win, bands);
    const pool = blockDecoding(o, lv.image) as unknown as GeoTiffPool; // geotiff only calls bindParameters(...).decode
    const fast = sparse.length === 0 && o.littleEndian === HOST_LE ? await readWindowByRows(lv.image, win, bands, pool, info.dataType, into) : null;
    const result = fast ?? (await lv.image.readRasters({ window: [...win], samples: [...bands], interleave: false, pool }));
    arrays = Array.from(result as unknown as BandArray[]);
    if (into && !fast) arrays = arrays.map((a, j) => (into[j]!.set(a as never), into[j]!));
  } catch (e) {
    throw wrap(e, name, 'decode the cells');
  }
  if (arrays.length !== bands.length || arrays.some((a) => a.length !== w * h)) {
    throw invalid(name, `decoded to ${arrays.length} band(s) of ${arrays[0]?.length ?? 0} cells, expected ${bands.length} of ${w * h}`);
  }
  if (sparse.length) fillSparse(arrays, bands, win, sparse, o.fileNodata ?? 0);
  const out = arrays.map((a) => convert(a, as));
  // nodata as the cells hold it: first in the file's type (as GDAL does), then in the output array's type
  const fileFloat32 = info.dataType === 'float32' || info.dataType === 'float16';
  const override = opts.nodata === undefined || opts.nodata === null ? opts.nodata : fileFloat32 ? toFloat32Nodata(opts.nodata) : opts.nodata;
  const fileNodata = override !== undefined ? override : info.nodata; // info.nodata: the file's, or the open-time override
  let nodata = fileNodata === null ? null : out[0] instanceof Float32Array ? toFloat32Nodata(fileNodata) : fileNodata;
  if (unscale) {
    // GDAL's unscaling: value * scale + offset, after nodata masking; masked cells become NaN
    out.forEach((a, j) => {
      const s = scales[j]!;
      const off = offsets[j]!;
      for (let i = 0; i < a.length; i++) {
        const v = a[i]!;
        a[i] = v !== v || v === nodata ? NaN : v * s + off;
      }
    });
    if (nodata !== null) nodata = NaN;
  }
  const [x0, dx, , y0, , dy] = lv.transform;
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

const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** `opts.into` must be one array per band, of the window's cell count and the output type. */
function checkInto(into: BandArray[], nBands: number, cells: number, Ctor: unknown): void {
  const problems: Problem[] = [];
  if (!Array.isArray(into) || into.length !== nBands) problems.push({ path: 'into', message: `has ${Array.isArray(into) ? into.length : 'no'} arrays; one per band read (${nBands}) is needed` });
  else {
    into.forEach((a, j) => {
      if (!Ctor || a?.constructor !== Ctor) problems.push({ path: `into[${j}]`, message: `is a ${a?.constructor?.name ?? typeof a}; the output type here is ${(Ctor as { name?: string } | undefined)?.name ?? 'not a typed array'}` });
      else if (a.length !== cells) problems.push({ path: `into[${j}]`, message: `has ${a.length} cells; the window has ${cells}` });
    });
  }
  if (problems.length) throw IbfError.fromProblems('E_USAGE', 'cannot read into these arrays', problems);
}

const ROW_ARRAYS: Partial<Record<SampleType, new (buffer: ArrayBuffer, byteOffset?: number, length?: number) => BandArray>> = {
  uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, int16: Int16Array, uint32: Uint32Array, int32: Int32Array, float32: Float32Array, float64: Float64Array,
};

/** The block decoder geotiff binds for an image (compression and its parameters), kept per image. */
const boundDecoders = new WeakMap<GeoTIFFImage, unknown>();

/**
 * geotiff computes a decoder's parameters internally (not exported): let it bind them once, through a
 * one-cell read, and keep the decoder it bound.
 */
async function boundDecoder(image: GeoTIFFImage, pool: GeoTiffPool, win: readonly [number, number, number, number], band: number): Promise<unknown> {
  let d = boundDecoders.get(image);
  if (d) return d;
  const inner = pool as unknown as { bindParameters(c: number, p: unknown): unknown };
  // binding happens before any block is fetched: stop the read right there, so nothing is read twice
  const bound = new Error('decoder bound');
  const capturing = {
    bindParameters: (c: number, p: unknown) => {
      d = inner.bindParameters(c, p);
      throw bound;
    },
  };
  try {
    await image.readRasters({ window: [win[0], win[1], win[0] + 1, win[1] + 1], samples: [band], interleave: false, pool: capturing as unknown as GeoTiffPool });
  } catch (e) {
    if (e !== bound) throw e;
  }
  if (!d) throw new Error('geotiff bound no decoder');
  boundDecoders.set(image, d);
  return d;
}

/**
 * The cells of `win` copied out of the decoded blocks a row at a time (typed-array views of each block),
 * instead of geotiff's copy of one cell at a time through a DataView: the same values, several times
 * faster. Only for layouts where one band's cells are contiguous in a block (one sample per pixel, or
 * band-separate planes) in the host's byte order; null otherwise (the caller falls back to geotiff).
 */
async function readWindowByRows(
  image: GeoTIFFImage, win: readonly [number, number, number, number], bands: readonly number[], pool: GeoTiffPool, dataType: SampleType, into?: BandArray[],
): Promise<BandArray[] | null> {
  const Ctor = ROW_ARRAYS[dataType];
  const planar = image.planarConfiguration;
  if (!Ctor || !(planar === 2 || image.getSamplesPerPixel() === 1)) return null;
  const tw = image.getTileWidth();
  const th = image.getTileHeight();
  const imageW = image.getWidth();
  const imageH = image.getHeight();
  const [x0, y0, x1, y1] = win;
  const W = x1 - x0;
  // rows are copied with TypedArray.set, which converts (e.g. float32 cells into a Float64Array)
  const out = into ?? bands.map(() => new Ctor(new ArrayBuffer(W * (y1 - y0) * Ctor.prototype.BYTES_PER_ELEMENT)));
  const jobs: Promise<void>[] = [];
  const decoder = await boundDecoder(image, pool, win, bands[0]!);
  const getBlock = image.getTileOrStrip.bind(image) as unknown as (x: number, y: number, sample: number, decoder: unknown) => Promise<{ data: ArrayBuffer }>;
  for (let ty = Math.floor(y0 / th); ty * th < y1; ty++) {
    for (let tx = Math.floor(x0 / tw); tx * tw < x1; tx++) {
      bands.forEach((band, j) => {
        jobs.push(
          getBlock(tx, ty, planar === 2 ? band : 0, decoder).then(({ data }) => {
            const n = Math.floor(data.byteLength / Ctor.prototype.BYTES_PER_ELEMENT);
            const block = new Ctor(data, 0, n);
            const c0 = Math.max(x0, tx * tw);
            const c1 = Math.min(x1, (tx + 1) * tw, imageW);
            const r1 = Math.min(y1, (ty + 1) * th, imageH);
            for (let r = Math.max(y0, ty * th); r < r1; r++) {
              const from = (r - ty * th) * tw + (c0 - tx * tw);
              if (from + (c1 - c0) > n) throw new Error(`block (${tx}, ${ty}) decoded to ${n} cells, too few for row ${r}`);
              out[j]!.set(block.subarray(from, from + (c1 - c0)) as never, (r - y0) * W + (c0 - x0));
            }
          }),
        );
      });
    }
  }
  await Promise.all(jobs);
  return out;
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
 * For rasters too large to hold (or above 4 GiB), stream them tile by tile with `createTiledGeoTiff` (io/tiff-stream).
 */
export function writeGeoTiff(raster: Raster, opts: WriteGeoTiffOptions = {}): ArrayBuffer {
  const { grid } = raster;
  const { tags, problems } = geoTiffTags({
    grid,
    nBands: raster.bands.length,
    nodata: raster.nodata,
    bandNames: opts.bandNames ?? raster.bandNames,
    bandMetadata: opts.bandMetadata,
    metadata: opts.metadata,
    crsType: opts.crsType,
  });
  if (problems.length) throw IbfError.fromProblems('E_USAGE', 'cannot write this raster as a GeoTIFF', problems);
  return encodeTiff({ width: grid.width, height: grid.height, bands: raster.bands, tags });
}
