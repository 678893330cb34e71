// @vitest-environment node
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import sizeLimit from 'size-limit'
import { describe, expect, test } from 'vitest'

// The README's size claim cannot drift from the budget in .size-limit.json or from the
// size of the built core (nanostores' test/size-synced).

const file = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url))
const CORE = "import { createSocket } from 'steadysocket'"

const UNITS: Record<string, number> = { B: 1, kB: 1000, KB: 1000 }

/** `'2.9 kB'` → `{ bytes: 2900, precision: 100 }`; `'2,870 B'` → `{ bytes: 2870, precision: 1 }`. */
function parseSize(text: string): { bytes: number; precision: number } {
  const match = /(\d[\d,]*(?:\.(\d+))?)\s*(kB|KB|B)\b/.exec(text)
  if (!match) throw new Error(`no size like "2.9 kB" or "2,870 B" in: ${text}`)
  const unit = UNITS[match[3] as string] as number
  const decimals = match[2]?.length ?? 0
  return {
    bytes: Math.round(Number((match[1] as string).replaceAll(',', '')) * unit),
    precision: Math.max(1, unit / 10 ** decimals),
  }
}

function readmeClaim(): { bytes: number; precision: number } {
  const readme = readFileSync(file('README.md'), 'utf8')
  const line = readme.split('\n').find((l) => l.startsWith('- **Small**:'))
  if (!line) throw new Error('README.md: the "- **Small**: …" bullet with the measured core size is missing')
  if (line.includes('SIZE_PLACEHOLDER')) {
    throw new Error('README.md: replace SIZE_PLACEHOLDER in the "- **Small**" bullet with the size `npx size-limit` measures')
  }
  return parseSize(line.slice('- **Small**:'.length))
}

function coreCheck(): { path: string; import: string; limit: string } {
  const checks = JSON.parse(readFileSync(file('.size-limit.json'), 'utf8')) as Array<{
    name: string
    path: string
    import: string
    limit: string
  }>
  const check = checks.find((c) => c.name === CORE)
  if (!check) throw new Error(`.size-limit.json: no check named "${CORE}"`)
  return check
}

describe('the README size claim', () => {
  test('is within the core budget in .size-limit.json', () => {
    expect(readmeClaim().bytes).toBeLessThanOrEqual(parseSize(coreCheck().limit).bytes)
  })

  test.runIf(existsSync(file('dist/steadysocket.js')))(
    'matches the size of the built core, rounded up at most one step of the claim',
    async () => {
      const claim = readmeClaim()
      const check = coreCheck()
      const path = file(check.path)
      // A name in a variable: the preset ships no types, and size-limit's own types say `object`.
      const presetName = '@size-limit/preset-small-lib'
      const { default: preset } = (await import(presetName)) as { default: Parameters<typeof sizeLimit>[0] }
      const results = (await sizeLimit(preset, {
        checks: [{ files: [path], import: { [path]: check.import } }],
      })) as Array<{ size: number }>
      const measured = results[0]?.size as number
      const slack = Math.max(claim.precision, 50)

      expect(measured, 'README claims less than the measured size').toBeLessThanOrEqual(claim.bytes)
      expect(claim.bytes - measured, `README claims more than the measured ${measured} B`).toBeLessThan(slack)
    },
  )
})
