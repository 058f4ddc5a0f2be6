import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { placesPlugin } from './main/build/placesPlugin.mjs';

// The renderer is served from a custom protocol (Electron) or the loopback server, never from a site root: relative base.
export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [react(), placesPlugin()],
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    // Strict CSP (no inline scripts): keep every asset a file, never a data: URL or inline chunk.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: true,
    // proj4 and zod come with the contract; one chunk loads from disk, size is not a network concern here
    chunkSizeWarningLimit: 1500,
  },
});
