/** Engine version written into every result manifest; test/version.test.ts keeps it equal to package.json. */
export const VERSION = '0.1.0';
export const ENGINE = 'e4drr-ibf';
