/** The part of geoblaze 2.8's API the zonal bench calls (it ships no types). */
declare module 'geoblaze' {
  const geoblaze: {
    parse(data: ArrayBuffer | string): Promise<unknown>;
    sum(raster: unknown, geometry: unknown): Promise<number[]>;
    max(raster: unknown, geometry: unknown): Promise<number[]>;
  };
  export default geoblaze;
}
