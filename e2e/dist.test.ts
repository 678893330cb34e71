import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { runInNewContext } from 'node:vm'
import { describe, expect, test } from 'vitest'
import { dist, root } from './harness'

// What `npm run build` leaves in dist/, checked as a consumer would meet it.

const read = (file: string) => readFileSync(join(dist, file), 'utf8')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, string | { types: string; default: string }>
  sideEffects: string[]
  unpkg: string
  jsdelivr: string
}

/** Every module specifier a built ESM file imports or re-exports. */
const specifiers = (code: string) =>
  [...code.matchAll(/(?:^|[;\s])(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]/g)].map(
    (match) => (match[1] ?? match[2]) as string,
  )

describe('the build output', () => {
  test('has every file package.json points to', () => {
    const targets = [
      ...Object.values(pkg.exports).flatMap((target) => (typeof target === 'string' ? [] : [target.types, target.default])),
      ...pkg.sideEffects,
      pkg.unpkg,
      pkg.jsdelivr,
    ]
    expect(targets.filter((target) => !existsSync(join(root, target)))).toEqual([])
    expect(pkg.sideEffects).toEqual(['./dist/steadysocket.iife.js'])
  })

  test('ships a source map beside every script', () => {
    const scripts = readdirSync(dist).filter((file) => file.endsWith('.js'))
    expect(scripts.sort()).toEqual(['outbox.js', 'react.js', 'shared.js', 'steadysocket.iife.js', 'steadysocket.js', 'websocket.js', 'worker-timers.js'])
    for (const file of scripts) {
      expect(read(file)).toMatch(new RegExp(`//# sourceMappingURL=${file}\\.map\\s*$`))
      expect(JSON.parse(read(`${file}.map`)).sources.length).toBeGreaterThan(0)
    }
  })

  test('keeps react and the core out of the React adapter: it imports them by package name', () => {
    const adapter = read('react.js')
    const imported = specifiers(adapter)

    expect(imported).toContain('steadysocket')
    expect(imported.filter((specifier) => !/^(react|react-dom|steadysocket)(\/|$)/.test(specifier))).toEqual([])
    expect(adapter).not.toMatch(/function createSocket\b/)
  })

  test('the core imports nothing', () => {
    expect(specifiers(read('steadysocket.js'))).toEqual([])
  })

  test('the IIFE is one minified classic script that defines SteadySocket with the ESM exports', async () => {
    const code = read('steadysocket.iife.js')
    // EventTarget: the drop-in class extends it, as in every browser.
    const sandbox: Record<string, unknown> = { EventTarget }
    runInNewContext(code, sandbox)
    delete sandbox.EventTarget
    const esm = (await import(pathToFileURL(join(dist, 'steadysocket.js')).href)) as Record<string, unknown>

    expect(code.trimEnd().split('\n')).toHaveLength(2) // the code, then the source map comment
    expect(Object.keys(sandbox)).toEqual(['SteadySocket'])
    // The CDN file adds the entries a <script> user needs (DESIGN 1): the drop-in class and shared sockets.
    expect(Object.keys(sandbox.SteadySocket as object).sort()).toEqual([...Object.keys(esm), 'ReconnectingWebSocket', 'createSharedSocket'].sort())
  })

  test('declarations exist for every entry and use import paths Node ESM resolution accepts', () => {
    const declarations = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.d.ts'))
    expect(declarations).toEqual(expect.arrayContaining(['index.d.ts', join('react', 'index.d.ts')]))
    const extensionless = declarations.flatMap((file) =>
      specifiers(read(file))
        .filter((specifier) => specifier.startsWith('.') && !specifier.endsWith('.js'))
        .map((specifier) => `${file}: ${specifier}`),
    )
    expect(extensionless).toEqual([])
  })
})
