// @ts-check
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

export const root = fileURLToPath(new URL('../..', import.meta.url))
export const outDir = join(root, 'bench', '.out')

/** Newest modification time of the core's sources (the React adapter does not go into this file). */
function newestSource(dir = join(root, 'src')) {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (entry.name !== 'react') newest = Math.max(newest, newestSource(join(dir, entry.name)))
    } else newest = Math.max(newest, statSync(join(dir, entry.name)).mtimeMs)
  }
  return newest
}

/**
 * The built ESM file to measure: `dist/steadysocket.js` when it is newer than `src/`;
 * otherwise the project's own `vite build` into bench/.out/dist (dist/ is left alone, other
 * tasks may be using it); if that build fails, esbuild's bundle of src/index.ts.
 * @param {(line: string) => void} log
 * @returns {Promise<{ file: string, how: string }>}
 */
export async function steadysocketBuild(log) {
  const dist = join(root, 'dist', 'steadysocket.js')
  if (existsSync(dist) && statSync(dist).mtimeMs >= newestSource()) return { file: dist, how: 'dist/steadysocket.js (vite build)' }
  const viteOut = join(outDir, 'dist')
  log(existsSync(dist) ? 'dist/ is older than src/: building into bench/.out/dist' : 'no dist/: building into bench/.out/dist')
  const vite = spawnSync(
    process.execPath,
    [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--outDir', viteOut, '--emptyOutDir', '--logLevel', 'error'],
    { cwd: root, encoding: 'utf8' },
  )
  const viteFile = join(viteOut, 'steadysocket.js')
  if (vite.status === 0 && existsSync(viteFile)) return { file: viteFile, how: 'vite build (project config) → bench/.out/dist/steadysocket.js' }
  const why = (vite.stderr || vite.stdout || '').split('\n').find((line) => /error|cannot/i.test(line)) ?? `exit ${vite.status}`
  log(`vite build failed (${why.trim()}); bundling src/index.ts with esbuild instead`)
  const file = join(outDir, 'steadysocket.esbuild.js')
  await build({
    entryPoints: [join(root, 'src', 'index.ts')],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    outfile: file,
    logLevel: 'error',
  })
  return { file, how: 'esbuild bundle of src/index.ts (unminified ESM) → bench/.out/steadysocket.esbuild.js' }
}

/**
 * The peers bundled for the browser: reconnecting-websocket and partysocket's
 * ReconnectingWebSocket, both with their default options.
 * @returns {Promise<string>} the file
 */
export async function peersBrowserBundle() {
  const dir = join(outDir, 'web')
  mkdirSync(dir, { recursive: true })
  const file = join(dir, 'peers.js')
  await build({
    stdin: {
      contents: [
        "export { default as ReconnectingWebSocket } from 'reconnecting-websocket'",
        "export { WebSocket as PartySocketWebSocket } from 'partysocket'",
      ].join('\n'),
      resolveDir: root,
      loader: 'js',
    },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outfile: file,
    logLevel: 'error',
  })
  return file
}

/** @param {string} name */
export const packageVersion = (name) =>
  /** @type {{ version: string }} */ (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8'))).version
