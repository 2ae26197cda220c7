/**
 * Vite build of the widget: web/widget/index.ts as one ES module, web/dist/widget/ibf-impact-widget.js,
 * with every asset URL relative to it (so it works from any origin that serves it with CORS). The
 * `mode="local"` worker and the WASM are separate files, loaded only in that mode.
 */
import { defineConfig } from 'vite';
import { here, quiet } from './vite.shared.js';

export default defineConfig({
  root: here('.'),
  base: './',
  publicDir: false,
  logLevel: 'warn',
  build: {
    outDir: here('dist/widget'),
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
    modulePreload: false,
    rollupOptions: {
      input: { 'ibf-impact-widget': here('widget/index.ts') },
      preserveEntrySignatures: 'exports-only',
      onwarn: quiet,
      output: { entryFileNames: '[name].js', chunkFileNames: 'assets/[name]-[hash].js', assetFileNames: 'assets/[name]-[hash][extname]' },
    },
  },
  worker: { format: 'es' },
});
