/**
 * Vite build of the dashboard (web/index.html) and the widget's docs page (web/widget.html) into
 * web/dist, with relative URLs so the app works at any path; web/public (the precomputed demo, _headers)
 * is copied as is. The widget itself is built by vite.widget.config.ts into web/dist/widget.
 * Dev server: `npx vite -c web/vite.config.ts` (127.0.0.1:5173; build the widget once for widget.html).
 */
import { defineConfig } from 'vite';
import { here, quiet } from './vite.shared.js';

export default defineConfig({
  root: here('.'),
  base: './',
  logLevel: 'warn',
  build: {
    outDir: here('dist'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1200,
    rollupOptions: { input: { index: here('index.html'), widget: here('widget.html') }, onwarn: quiet },
  },
  worker: { format: 'es' },
  server: { host: '127.0.0.1', fs: { allow: [here('..')] } },
  plugins: [
    {
      // dev server only: the docs page's widget script is the widget's source
      name: 'ibf-widget-in-dev',
      configureServer(server) {
        server.middlewares.use((req, _res, next) => {
          if (req.url?.startsWith('/widget/ibf-impact-widget.js')) req.url = '/widget/index.ts';
          next();
        });
      },
    },
  ],
});
