import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Plugin } from 'vite'
import { defineConfig } from 'vitest/config'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

/**
 * Emits `dist/**\/*.d.ts` with `tsc -p tsconfig.build.json`, then gives every relative
 * specifier in them a `.js` extension: the sources import `./socket`, which `Bundler`
 * resolution accepts but Node's ESM resolution (TypeScript `node16`/`nodenext`) does not.
 */
function declarations(): Plugin {
  const dist = here('./dist')
  const fix = (file: string) => {
    const text = readFileSync(file, 'utf8')
    const fixed = text.replace(
      /(\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)(['"])(\.{1,2}\/[^'"]*)\2/gm,
      (_match, before: string, quote: string, specifier: string) => {
        if (specifier.endsWith('.js')) return `${before}${quote}${specifier}${quote}`
        const base = join(dirname(file), specifier)
        const target = existsSync(`${base}.d.ts`)
          ? `${specifier}.js`
          : existsSync(join(base, 'index.d.ts'))
            ? `${specifier}/index.js`
            : undefined
        if (!target) throw new Error(`declarations: ${file} imports ${specifier}, which has no .d.ts in dist`)
        return `${before}${quote}${target}${quote}`
      },
    )
    if (fixed !== text) writeFileSync(file, fixed)
  }
  return {
    name: 'steadysocket:declarations',
    apply: 'build',
    closeBundle() {
      const tsc = spawnSync(process.execPath, [here('./node_modules/typescript/bin/tsc'), '-p', here('./tsconfig.build.json')], {
        stdio: 'inherit',
      })
      if (tsc.status !== 0) throw new Error(`declarations: tsc -p tsconfig.build.json exited with ${tsc.status}`)
      for (const entry of readdirSync(dist, { recursive: true, encoding: 'utf8' })) {
        if (entry.endsWith('.d.ts')) fix(join(dist, entry))
      }
    },
  }
}

// `vite build` makes the ESM entries and the declarations; `vite build --mode iife`
// makes the single CDN file. Two passes because a library build has one format per
// entry set.
export default defineConfig(({ mode }) => ({
  resolve: {
    alias: [
      { find: /^steadysocket\/(react|outbox|shared|websocket|worker-timers)$/, replacement: here('./src/$1/index.ts') },
      { find: /^steadysocket$/, replacement: here('./src/index.ts') },
    ],
  },
  build:
    mode === 'iife'
      ? {
          emptyOutDir: false,
          target: 'es2022',
          sourcemap: true,
          lib: {
            entry: here('./src/iife.ts'),
            name: 'SteadySocket',
            formats: ['iife'],
            fileName: () => 'steadysocket.iife.js',
          },
        }
      : {
          target: 'es2022',
          sourcemap: true,
          minify: false,
          lib: {
            entry: {
              steadysocket: here('./src/index.ts'),
              react: here('./src/react/index.ts'),
              outbox: here('./src/outbox/index.ts'),
              shared: here('./src/shared/index.ts'),
              websocket: here('./src/websocket/index.ts'),
              'worker-timers': here('./src/worker-timers/index.ts'),
            },
            formats: ['es'],
            fileName: (_format, name) => `${name}.js`,
          },
          rolldownOptions: {
            // The adapter imports the core by package name: one copy of the core in any app.
            external: [/^react(-dom)?($|\/)/, /^steadysocket($|\/)/],
          },
        },
  plugins: mode === 'iife' ? [] : [declarations()],
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
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['e2e/global-setup.ts'],
          testTimeout: 30000,
          hookTimeout: 60000,
        },
      },
    ],
  },
}))
