import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

// `vite build` makes the ESM entries; `vite build --mode iife` makes the single
// CDN file. Two passes because a library build has one format per entry set.
export default defineConfig(({ mode }) => ({
  resolve: {
    alias: [
      { find: /^steadysocket\/react$/, replacement: here('./src/react/index.ts') },
      { find: /^steadysocket$/, replacement: here('./src/index.ts') },
    ],
  },
  build:
    mode === 'iife'
      ? {
          emptyOutDir: false,
          sourcemap: true,
          lib: {
            entry: here('./src/iife.ts'),
            name: 'SteadySocket',
            formats: ['iife'],
            fileName: () => 'steadysocket.iife.js',
          },
        }
      : {
          sourcemap: true,
          minify: false,
          lib: {
            entry: { steadysocket: here('./src/index.ts'), react: here('./src/react/index.ts') },
            formats: ['es'],
            fileName: (_format, name) => `${name}.js`,
          },
          rolldownOptions: {
            external: ['react', 'steadysocket'],
          },
        },
  test: {
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.{ts,tsx}'], environment: 'happy-dom' },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.{ts,tsx}'],
          environment: 'node',
          testTimeout: 20000,
          hookTimeout: 20000,
        },
      },
    ],
  },
}))
