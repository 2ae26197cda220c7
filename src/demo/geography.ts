/**
 * @module demo/geography
 * The setting of the bundled demo: south-eastern Africa (Botswana, Eswatini, Malawi, Mozambique, Zambia,
 * Zimbabwe). River courses, lakes and towns are hand-placed approximations (a few waypoints each, to
 * tenths of a degree) that make the synthetic data look like the region; they are not hydrography or
 * census data. National populations are rounded 2020 orders of magnitude. Longitude / latitude in
 * degrees (EPSG:4326).
 */

/** The demo area (degrees): every zone lies inside it. */
export const AREA = { west: 19.9, east: 40.9, north: -8.15, south: -27.35 } as const;

/** Approximate national population (people), used to scale the synthetic population per zone (iso3). */
export const NATIONAL_POPULATION: Readonly<Record<string, number>> = {
  BWA: 2_350_000,
  MOZ: 31_000_000,
  MWI: 19_000_000,
  SWZ: 1_160_000,
  ZMB: 18_400_000,
  ZWE: 15_000_000,
};

/**
 * Forecast severity of a basin per lead time (24, 48, 72 hours): 1 is the river's reference flood
 * (its `depth` at the bank, its `width` of floodplain). The scripted event: a tropical cyclone making
 * landfall near Beira, floods peaking in central Mozambique and southern Malawi on day 2-3.
 */
export type Severity = readonly [number, number, number];

export interface River {
  name: string;
  /** Waypoints from source to mouth or confluence, [lon, lat]. */
  course: ReadonlyArray<readonly [number, number]>;
  /** Floodplain half-width (km) of the reference flood at the source and at the mouth. */
  width: readonly [number, number];
  /** Depth at the bank (m) of the reference flood at the source and at the mouth. */
  depth: readonly [number, number];
  severity: Severity;
  /** Seeded tributaries to add (short random courses joining this river). */
  tributaries: number;
}

export const RIVERS: readonly River[] = [
  {
    name: 'Zambezi',
    course: [
      [24.4, -11.4], [23.6, -12.3], [22.8, -13.1], [23.2, -14.4], [23.1, -15.3], [23.3, -16.1], [23.6, -16.7], [24.3, -17.5],
      [25.3, -17.8], [25.9, -17.9], [27.3, -17.6], [28.8, -16.5], [28.9, -16.0], [30.4, -15.6], [32.7, -15.6], [33.6, -16.2],
      [34.6, -16.9], [35.4, -17.8], [35.9, -18.3], [36.5, -18.6],
    ],
    width: [2, 14],
    depth: [0.8, 2.6],
    severity: [0.35, 0.6, 0.95],
    tributaries: 5,
  },
  {
    name: 'Shire',
    course: [[35.25, -14.5], [35.25, -14.7], [35.2, -15.1], [34.95, -15.4], [34.8, -16.0], [35.15, -16.55], [35.25, -16.9], [35.35, -17.7]],
    width: [3, 12],
    depth: [1.0, 2.4],
    severity: [0.55, 0.95, 1.2],
    tributaries: 2,
  },
  {
    name: 'Luangwa',
    course: [[32.9, -10.6], [32.3, -12.1], [31.9, -13.1], [31.0, -14.0], [30.4, -15.6]],
    width: [1.5, 6],
    depth: [0.6, 1.6],
    severity: [0.15, 0.22, 0.3],
    tributaries: 3,
  },
  {
    name: 'Kafue',
    course: [[27.6, -12.2], [26.8, -13.5], [25.9, -14.6], [25.9, -15.6], [26.7, -15.85], [27.6, -15.75], [28.2, -15.8], [28.9, -15.95]],
    width: [1.5, 9],
    depth: [0.5, 1.4],
    severity: [0.12, 0.18, 0.25],
    tributaries: 3,
  },
  {
    name: 'Pungwe',
    course: [[32.8, -18.3], [33.4, -18.8], [34.3, -19.3], [34.85, -19.8]],
    width: [2, 16],
    depth: [1.2, 3.0],
    severity: [0.8, 1.3, 1.6],
    tributaries: 2,
  },
  {
    name: 'Buzi',
    course: [[32.9, -19.9], [33.5, -19.95], [34.1, -19.85], [34.6, -19.9], [34.8, -19.95]],
    width: [2, 18],
    depth: [1.2, 3.2],
    severity: [0.85, 1.35, 1.65],
    tributaries: 2,
  },
  {
    name: 'Save',
    course: [[31.4, -18.2], [32.0, -19.4], [32.2, -20.4], [32.4, -21.3], [33.0, -21.2], [34.0, -21.0], [35.1, -20.95]],
    width: [1.5, 10],
    depth: [0.8, 2.0],
    severity: [0.3, 0.45, 0.6],
    tributaries: 3,
  },
  {
    name: 'Limpopo',
    course: [[26.9, -24.3], [27.8, -22.8], [29.0, -22.2], [30.0, -22.2], [31.3, -22.4], [32.3, -23.0], [33.0, -24.5], [33.6, -25.05], [33.6, -25.2]],
    width: [1.5, 10],
    depth: [0.6, 1.8],
    severity: [0.12, 0.18, 0.22],
    tributaries: 3,
  },
  {
    name: 'Okavango',
    course: [[21.8, -18.3], [22.4, -18.9], [22.9, -19.4], [23.4, -19.9]],
    width: [2, 10],
    depth: [0.3, 0.6],
    severity: [0.1, 0.1, 0.12],
    tributaries: 1,
  },
];

/** Permanent water: no flood depth and nobody living there. */
export const LAKES: ReadonlyArray<{ name: string; ring: ReadonlyArray<readonly [number, number]> }> = [
  {
    name: 'Lake Malawi',
    ring: [
      [33.95, -9.5], [34.05, -10.2], [34.2, -10.9], [34.25, -11.5], [34.25, -12.1], [34.3, -12.7], [34.45, -13.3], [34.6, -13.8],
      [34.85, -14.1], [35.15, -14.4], [35.25, -14.45], [35.3, -14.1], [35.0, -13.5], [34.85, -12.8], [34.8, -12.0], [34.7, -11.2],
      [34.55, -10.6], [34.4, -10.0], [34.2, -9.6],
    ],
  },
  {
    name: 'Lake Kariba',
    ring: [[26.75, -17.95], [27.2, -17.55], [27.7, -17.15], [28.3, -16.75], [28.78, -16.5], [28.75, -16.7], [28.2, -16.95], [27.6, -17.4], [27.1, -17.8], [26.8, -18.05]],
  },
  {
    name: 'Lake Cahora Bassa',
    ring: [[30.9, -15.55], [31.6, -15.5], [32.3, -15.55], [32.7, -15.6], [32.6, -15.72], [32.0, -15.75], [31.3, -15.7], [30.9, -15.65]],
  },
];

/** Towns: approximate location and urban population (people). */
export const TOWNS: ReadonlyArray<readonly [name: string, lon: number, lat: number, population: number]> = [
  // Mozambique
  ['Maputo', 32.59, -25.97, 1_100_000], ['Matola', 32.46, -25.96, 1_000_000], ['Beira', 34.84, -19.83, 600_000], ['Nampula', 39.27, -15.12, 750_000],
  ['Chimoio', 33.48, -19.12, 370_000], ['Quelimane', 36.89, -17.88, 350_000], ['Tete', 33.59, -16.16, 300_000], ['Nacala', 40.67, -14.56, 250_000],
  ['Lichinga', 35.24, -13.31, 200_000], ['Pemba', 40.52, -12.97, 200_000], ['Dondo', 34.74, -19.61, 180_000], ['Xai-Xai', 33.64, -25.05, 130_000],
  ['Mocuba', 36.98, -16.84, 100_000], ['Gurue', 36.98, -15.46, 100_000], ['Cuamba', 36.54, -14.8, 100_000], ['Inhambane', 35.38, -23.86, 80_000],
  ['Chokwe', 33.0, -24.53, 60_000], ['Nhamatanda', 34.2, -19.26, 50_000], ['Marromeu', 35.94, -18.28, 40_000], ['Caia', 35.38, -17.83, 30_000],
  ['Buzi', 34.61, -19.87, 30_000],
  // Malawi
  ['Lilongwe', 33.79, -13.97, 1_100_000], ['Blantyre', 35.01, -15.79, 800_000], ['Mzuzu', 34.02, -11.46, 220_000], ['Zomba', 35.32, -15.39, 110_000],
  ['Karonga', 33.93, -9.93, 60_000], ['Mangochi', 35.26, -14.48, 55_000], ['Salima', 34.46, -13.78, 40_000], ['Nsanje', 35.26, -16.92, 30_000],
  ['Liwonde', 35.23, -15.06, 30_000], ['Chikwawa', 34.8, -16.03, 25_000],
  // Zimbabwe
  ['Harare', 31.05, -17.83, 2_100_000], ['Bulawayo', 28.58, -20.15, 700_000], ['Mutare', 32.67, -18.97, 260_000], ['Gweru', 29.82, -19.45, 160_000],
  ['Kwekwe', 29.81, -18.93, 100_000], ['Masvingo', 30.83, -20.07, 90_000], ['Chinhoyi', 30.2, -17.36, 80_000], ['Beitbridge', 30.0, -22.22, 40_000],
  ['Victoria Falls', 25.84, -17.93, 35_000], ['Hwange', 26.5, -18.36, 35_000], ['Chipinge', 32.62, -20.19, 30_000], ['Chiredzi', 31.67, -21.05, 30_000],
  ['Kariba', 28.8, -16.52, 30_000],
  // Zambia
  ['Lusaka', 28.28, -15.42, 2_500_000], ['Kitwe', 28.21, -12.8, 700_000], ['Ndola', 28.64, -12.96, 600_000], ['Kabwe', 28.45, -14.45, 250_000],
  ['Chingola', 27.86, -12.53, 230_000], ['Livingstone', 25.86, -17.85, 180_000], ['Mufulira', 28.24, -12.55, 170_000], ['Chipata', 32.65, -13.64, 130_000],
  ['Kasama', 31.18, -10.21, 120_000], ['Mazabuka', 27.77, -15.86, 110_000], ['Solwezi', 26.38, -12.17, 100_000], ['Mongu', 23.13, -15.25, 80_000],
  ['Mansa', 28.89, -11.2, 80_000], ['Kafue', 28.18, -15.77, 80_000], ['Choma', 26.98, -16.81, 60_000], ['Senanga', 23.27, -16.12, 30_000],
  // Botswana
  ['Gaborone', 25.91, -24.65, 250_000], ['Francistown', 27.51, -21.17, 100_000], ['Molepolole', 25.5, -24.41, 70_000], ['Maun', 23.42, -19.98, 65_000],
  ['Serowe', 26.71, -22.39, 50_000], ['Selebi-Phikwe', 27.83, -22.0, 50_000], ['Palapye', 27.12, -22.55, 40_000], ['Kasane', 25.15, -17.8, 10_000],
  // Eswatini
  ['Manzini', 31.38, -26.5, 110_000], ['Mbabane', 31.13, -26.32, 95_000], ['Nhlangano', 31.2, -27.11, 10_000], ['Siteki', 31.95, -26.45, 7_000],
];
