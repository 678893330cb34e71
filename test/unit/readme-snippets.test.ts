// @vitest-environment node
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, test } from 'vitest'

// Every TypeScript block of the README must compile as a user pastes it: in a project of
// its own, importing the built package by name (`steadysocket`, `steadysocket/react`…)
// through package.json's exports, with nothing declared for it.

const root = fileURLToPath(new URL('../..', import.meta.url))
const readme = readFileSync(join(root, 'README.md'), 'utf8')

interface Block {
  /** README line of the opening fence. */
  line: number
  tsx: boolean
  code: string
}

function blocks(): Block[] {
  const found: Block[] = []
  const lines = readme.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(ts|tsx|typescript)\s*$/.exec(lines[i] as string)
    if (!open) continue
    const start = i
    const body: string[] = []
    while (++i < lines.length && !(lines[i] as string).startsWith('```')) body.push(lines[i] as string)
    found.push({ line: start + 1, tsx: open[1] === 'tsx', code: body.join('\n') })
  }
  return found
}

/** The packages a block imports by bare name, as directory names under node_modules. */
const packagesOf = (code: string) =>
  [...code.matchAll(/\bfrom\s+['"]([^'".][^'"]*)['"]/g)].map(([, specifier]) => {
    const parts = (specifier as string).split('/')
    return (specifier as string).startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string)
  })

test('every TypeScript block of the README compiles against the built package', () => {
  if (!existsSync(join(root, 'dist/index.d.ts'))) throw new Error('dist/ has no types: run `npm run build` first')
  const found = blocks()
  expect(found.length).toBeGreaterThan(10)

  const dir = mkdtempSync(join(tmpdir(), 'steadysocket-readme-'))
  try {
    const modules = join(dir, 'node_modules')
    mkdirSync(join(modules, '@types'), { recursive: true })
    // The package as an app installs it; its dependencies' types as the repository has them.
    symlinkSync(root, join(modules, 'steadysocket'), 'dir')
    symlinkSync(join(root, 'node_modules/@types/react'), join(modules, '@types/react'), 'dir')
    const names = new Set(found.flatMap((block) => packagesOf(block.code)))
    names.delete('steadysocket')
    for (const name of names) {
      if (name.startsWith('@types/')) continue
      const target = join(root, 'node_modules', name)
      if (!existsSync(target)) throw new Error(`README imports ${name}, which is not installed here: add it to devDependencies`)
      if (name.includes('/')) mkdirSync(join(modules, name.split('/')[0] as string), { recursive: true })
      symlinkSync(target, join(modules, name), 'dir')
    }

    const files = new Map<string, Block>()
    for (const block of found) {
      const file = `readme-line-${block.line}.${block.tsx ? 'tsx' : 'ts'}`
      files.set(file, block)
      // Each block is a module of its own, so two blocks may declare the same names.
      writeFileSync(join(dir, file), `${block.code}\nexport {}\n`)
    }
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          target: 'ES2022',
          module: 'ESNext',
          moduleResolution: 'Bundler',
          lib: ['ES2022', 'DOM', 'DOM.Iterable'],
          jsx: 'react-jsx',
          types: [],
          skipLibCheck: true,
          noEmit: true,
        },
        include: ['*.ts', '*.tsx'],
      }),
    )
    // One program for every block: one compiler start.
    const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', dir, '--pretty', 'false'], {
      cwd: dir,
      encoding: 'utf8',
    })
    // Errors pointed at README.md lines, so the message says where to fix.
    const errors = `${tsc.stdout}${tsc.stderr}`
      .split('\n')
      .filter((line) => line.trim())
      .map((line) =>
        line.replace(/^(readme-line-(\d+)\.tsx?)\((\d+),(\d+)\)/, (_match, _file, start: string, row: string, column: string) => {
          return `README.md:${Number(start) + Number(row)}:${column}`
        }),
      )
    expect(errors).toEqual([])
    expect(tsc.status).toBe(0)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  // One compiler run over every block: a few seconds, more on a busy machine.
}, 60_000)
