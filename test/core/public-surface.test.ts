/**
 * First-party plugins use only what `sluice` exports (core/index.ts) and their own folder, so whatever they do a
 * third-party plugin can do too. (The provider plugins are one folder, plugins/providers.)
 */
import { describe, expect, it } from 'vitest'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

const ROOT = resolve(import.meta.dirname, '../..')
const PLUGINS = join(ROOT, 'plugins')
const PUBLIC = join(ROOT, 'core/index.ts')

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return name === 'public' ? [] : sources(path)
    return path.endsWith('.ts') ? [path] : []
  })
}

/** plugins/keys/x.ts → plugins/keys; plugins/providers/openai/index.ts → plugins/providers. */
function packageOf(file: string): string {
  return join(PLUGINS, relative(PLUGINS, file).split('/')[0]!)
}

const IMPORT = /(?:import|export)\s[^'"]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g

describe('the public surface', () => {
  it('plugins import only sluice\'s exports, their own folder, and packages', () => {
    const violations: string[] = []
    // plugins/index.ts is the `sluice/plugins` entry point: it only re-exports each plugin.
    for (const file of sources(PLUGINS).filter((path) => path !== join(PLUGINS, 'index.ts'))) {
      const text = readFileSync(file, 'utf8')
      for (const match of text.matchAll(IMPORT)) {
        const specifier = match[1] ?? match[2]!
        if (!specifier.startsWith('.')) continue // node: built-ins and npm packages
        const target = resolve(dirname(file), specifier)
        if (target === PUBLIC || target.startsWith(packageOf(file) + '/')) continue
        violations.push(`${relative(ROOT, file)} imports ${specifier}`)
      }
    }
    expect(violations).toEqual([])
  })
})
