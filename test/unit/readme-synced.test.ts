// @vitest-environment node
import { existsSync, readFileSync } from 'node:fs'
import { expect, test } from 'vitest'
import { defaults } from '../../src/options'

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')

/** The default column of the table row whose first cell is `name`. */
function documented(name: string): string | undefined {
  const row = readme.split('\n').find((line) => line.startsWith(`| \`${name}\` |`))
  const cells = row?.split(/(?<!\\)\|/).map((cell) => cell.trim())
  // Rows are | name | default | meaning | in sub-tables, and | name | type | default | meaning | at the top level.
  return cells && (cells.length === 5 ? cells[2] : cells[3])
}

/** How the README writes a default; `undefined` for those it describes in words (functions, "none"). */
const shown = (value: unknown) =>
  value === undefined
    ? undefined
    : typeof value === 'string'
      ? `\`'${value}'\``
      : typeof value === 'function'
        ? value === Math.random
          ? '`Math.random`'
          : undefined
        : `\`${value}\``

test('the README documents every default as the code declares it', () => {
  const rows: [string, unknown][] = []
  for (const [key, value] of Object.entries(defaults)) {
    if (value && typeof value === 'object') for (const [field, inner] of Object.entries(value)) rows.push([field, inner])
    else rows.push([key, value])
  }
  const mismatches = rows
    .filter(([, value]) => shown(value) !== undefined)
    .map(([name, value]) => [name, documented(name), shown(value)])
    .filter(([, doc, code]) => doc !== code)
  expect(mismatches).toEqual([])
  expect(rows.length).toBeGreaterThan(15)
})

test('the README links only to files the repository has and to its own headings', () => {
  // GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens.
  const anchors = new Set(
    readme
      .split('\n')
      .filter((line) => /^#{1,6} /.test(line))
      .map((line) =>
        line
          .replace(/^#+ /, '')
          .toLowerCase()
          .replace(/[^\p{L}\p{N} _-]/gu, '')
          .replaceAll(' ', '-'),
      ),
  )
  const broken = [...readme.matchAll(/\]\(([^)\s]+)\)/g)]
    .map(([, target]) => target as string)
    .filter((target) => !/^[a-z]+:/.test(target))
    .filter((target) => {
      const [path, anchor] = target.split('#')
      if (path) return !existsSync(new URL(`../../${path}`, import.meta.url))
      return !anchors.has(anchor as string)
    })
  expect(broken).toEqual([])
})
