/**
 * @module e4drr-ibf
 * Runtime-neutral core: damage functions and catalog, kernels (TypeScript twin and WASM wrapper),
 * the assessment engine over decoded rasters, GeoTIFF and curve-CSV codecs, the result schema.
 * Node file access lives in `e4drr-ibf/node`.
 */
export { IbfError, isIbfError, ERROR_CODES, type IbfErrorCode, type Problem } from './errors.js';
export { VERSION } from './version.js';
export * from './model/damage-function.js';
export * from './model/grid.js';
export * from './model/raster.js';
export * from './model/units.js';
export * from './model/scenario.js';
export { getCurve, hasCurve, listCurves, registerCurves, jrcFlood, eberenz2021, type CatalogEntry } from './catalog/index.js';
export * from './kernels/types.js';
export { ReferenceKernel } from './kernels/reference.js';
export { WasmKernel } from './kernels/wasm.js';
export { loadKernelFromUrl } from './kernels/load-browser.js';
export { loadKernelFromModule } from './kernels/load-edge.js';
export { simdSupported } from './kernels/simd-probe.js';
export { assessRasters, totalsOf, type AssessRastersInput, type AssessRastersOptions, type AssessRastersOutput } from './engine/assess.js';
export { assess, planScenario, type AssessOptions, type AssessOutput, type PlannedAssessment, type ScenarioIO } from './engine/scenario.js';
export { runPlan, type Progress, type RunPlanOptions, type PlanOutput } from './engine/run.js';
export { mapTile, type TileResult, type TileContext } from './engine/tile.js';
export type { AssessPlan, AlignedLayer, HazardLayer, ClassLayer, ZoneSpans } from './engine/plan.js';
export { SourceCache, type SourceRef, type LayerRef, type PathOpener } from './engine/sources.js';
export { planTiles, UNIT_WIDTH, UNIT_HEIGHT } from './engine/tiling.js';
export { ExactSum, exactSum, type ExactSumState } from './engine/exact-sum.js';
export { Reducer, toJsonNumber, fromJsonNumber, type ReducerState, type JsonNumber } from './engine/reduce.js';
export { planAssessment, tileBatches, runTileBatch, finishAssessment, type StepOptions, type TileRange, type AssessmentSummary, type BatchPartial } from './engine/steps.js';
export { zonalOfSource, type RunZonalOptions, type ZonalOutput, type ZonalLimits } from './engine/zonal-source.js';
export { createTiledGeoTiff, memoryTiffSink, type TiffSink, type TiledGeoTiffWriter, type TiledGeoTiffOptions } from './io/tiff-stream.js';
export { parseFrequencyCsv } from './io/frequencies-csv.js';
export * from './engine/result.js';
export { sha256Hex, curveHash } from './engine/manifest.js';
export { readRaster, readRasterInfo, openGeoTiff, writeGeoTiff, type ByteSource, type ByteInput, type RasterInfo, type ReadRasterOptions } from './io/geotiff.js';
export { httpByteSource, type HttpByteSource, type HttpByteSourceOptions } from './io/http.js';
export { parseZones, type ParseZonesOptions } from './io/zones.js';
export * from './model/zones.js';
export { coverageWindow, coverageSpans } from './geo/coverage.js';
export { resampleRaster, type ResampleOptions } from './geo/resample.js';
export { pointTransform, transformPoints, isSupportedCrs, canonicalCrs } from './geo/crs.js';
export { zonalStats, zonalStatsOf, zonalStatsOfSpans, zonalStatsOfWindows, spanStats, windowStats, zonalCsv, ZONAL_STATS, type ZonalRow, type ZonalStat } from './engine/zonal.js';
export { readCurveCsv, parseFiatCurves } from './io/curves-csv.js';
export { RESULT_JSON_SCHEMA, RESULT_SCHEMA_ID, validateResult, validateJson, type JsonSchema } from './engine/result-schema.js';
export { zonesCsv, zonesGeoJson, zoneTable } from './io/zones-out.js';
export * from './engine/derive/index.js';
export * from './engine/trigger.js';
export { derive, derivationSpec, checkDerivation } from './engine/metrics.js';
export { createPool, toImpactWire, fromImpactWire, type Pool, type PoolProtocol, type WorkerHandle } from './pool/index.js';
export * from './flow/index.js';
export * from './flow/ibf/index.js';
