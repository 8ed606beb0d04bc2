// Builds the renderer (React) into dist/renderer for the app:// protocol and the e2e tests.
// Relative asset URLs, no inline script or style (the CSP forbids both), and the CSP itself
// written into index.html from src/shared/csp.ts so there is one copy of it.
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { CONTENT_SECURITY_POLICY } from './src/shared/csp.js';

const csp = (): Plugin => ({
  name: 'beamdrop-csp',
  transformIndexHtml: (html) => html.replace('%BEAMDROP_CSP%', CONTENT_SECURITY_POLICY),
});

export default defineConfig({
  root: 'src/renderer',
  base: './',
  plugins: [react(), csp()],
  build: {
    outDir: '../../dist/renderer',
    emptyOutDir: true,
    target: 'chrome140',
    sourcemap: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1000,
  },
});
