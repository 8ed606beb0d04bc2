// Bundles the preload into one CommonJS file: a sandboxed preload cannot load other modules, so
// the shared contract is inlined and `electron` is its only require.
import { defineConfig } from 'vite';

export default defineConfig({
  build: {
    outDir: 'dist/preload',
    emptyOutDir: false,
    target: 'node22',
    minify: false,
    sourcemap: false,
    lib: { entry: 'src/preload/index.ts', formats: ['cjs'], fileName: () => 'preload.cjs' },
    rollupOptions: { external: ['electron'] },
  },
});
