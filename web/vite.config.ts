// The console's build: web/src → web/dist, served by the control plane at `/` (the API stays under /api/v1).
// `npm run dev:web` proxies the API to a control plane on :8080 (npm start) (FLOTILLA_SERVER overrides).
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { gzipSync } from 'node:zlib';

const server = process.env.FLOTILLA_SERVER ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root: import.meta.dirname,
  plugins: [
    react(),
    {
      // The budget is 300 KB of JavaScript gzipped on first load; say what the build weighs, fail past it.
      name: 'first-load-budget',
      generateBundle(_options, bundle) {
        let gz = 0;
        for (const chunk of Object.values(bundle))
          if (chunk.type === 'chunk' && chunk.isEntry) gz += gzipSync(chunk.code).length
            + chunk.imports.reduce((s, f) => s + gzipSync((bundle[f] as { code: string }).code).length, 0);
        const kb = gz / 1024;
        this.info(`first-load JavaScript: ${kb.toFixed(1)} KB gzipped (budget 300 KB)`);
        if (kb > 300) this.error(`first-load JavaScript is ${kb.toFixed(1)} KB gzipped, over the 300 KB budget`);
      },
    },
  ],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 600 },
  server: { proxy: { '/api': server } },
});
