// Full pipeline: keys → governor → retry → breaker → usage (SQLite), in front of the bench mock. Each plugin is
// included only when its folder exports the factory, so the bench runs while plugins are still being written;
// the line printed at start-up says which made it in (bench/run.ts reads it).
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { defineGatewayConfig } from 'sluice'
import { openaiCompatible } from 'sluice/plugins/providers'
import type { SluicePlugin } from '../../core/types.ts'

type Factory = (options?: any) => SluicePlugin

async function load(folder: string, name: string): Promise<Factory | undefined> {
  try {
    const module = await import(`../../plugins/${folder}/index.ts`)
    return typeof module[name] === 'function' ? module[name] : undefined
  } catch {
    return undefined
  }
}

const benchKey = process.env.BENCH_KEY
// Limits far above anything the bench can send: the governor does all its work and never refuses.
const huge = { rps: 10_000_000, tpm: 100_000_000_000, maxConcurrent: 1_000_000 }
const scratch = process.env.BENCH_SCRATCH ?? join(tmpdir(), `sluice-bench-${process.pid}`)
const wanted: Array<[folder: string, factory: string, options: () => unknown]> = [
  ['keys', 'keys', () => ({ keys: [{ name: 'bench', key: benchKey }] })],
  ['governor', 'governor', () => ({ perKey: huge, rules: [{ scope: 'model', ...huge }] })],
  ['retry', 'retry', () => ({})],
  ['breaker', 'breaker', () => ({})],
  ['usage', 'usage', () => ({ store: 'sqlite', sqlite: { file: join(scratch, 'usage.db') }, spillFile: join(scratch, 'spill.jsonl') })],
]

const included: string[] = []
const skipped: string[] = []
const plugins: SluicePlugin[] = [
  openaiCompatible({
    name: 'mock',
    baseURL: process.env.BENCH_UPSTREAM_URL!,
    ...(process.env.BENCH_UPSTREAM_CONNECTIONS && { connections: Number(process.env.BENCH_UPSTREAM_CONNECTIONS) }),
  }),
]
// BENCH_PLUGINS=keys,usage keeps only those (to measure what each plugin costs).
const only = process.env.BENCH_PLUGINS?.split(',')
for (const [folder, name, options] of wanted) {
  if (only && !only.includes(name)) continue
  const factory = await load(folder, name)
  if (!factory || (name === 'keys' && !benchKey)) {
    skipped.push(name)
    continue
  }
  try {
    plugins.push(factory(options()))
    included.push(name)
  } catch (error) {
    skipped.push(`${name} (${(error as Error)?.message?.split('\n')[0]})`)
  }
}
console.log(`bench-full-plugins: ${included.join(',') || '-'}${skipped.length ? ` | skipped: ${skipped.join('; ')}` : ''}`)

export default defineGatewayConfig({
  server: { port: Number(process.env.PORT ?? 0) },
  storage: { driver: 'memory' },
  logLevel: 'warn',
  plugins,
})
