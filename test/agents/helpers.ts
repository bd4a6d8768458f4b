/**
 * Helpers for the end-to-end suites with the real coding agents and SDKs: where their install lives (this
 * folder's own package.json, installed by `npm ci --prefix test/agents`), the stack each test starts (the mock
 * upstreams and a real gateway in front of them), and runners for `claude -p` and `codex exec` in a throwaway
 * home, with telemetry, update checks and retries off.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { RequestRecord } from '../../core/index.ts'
import { startMockAnthropic, type MockUpstream } from '../fixtures/mock-anthropic.ts'
import { startMockOpenAI, type MockOpenAI } from '../fixtures/mock-openai.ts'
import { startGatewayFromFile, type TestGateway } from '../helpers/gateway.ts'

export const AGENTS_DIR = import.meta.dirname
const MODULES = join(AGENTS_DIR, 'node_modules')
const requireHere = createRequire(join(AGENTS_DIR, 'package.json'))

/** Per test: the programs run in 1-3 s; this bounds a hang (a stuck stream, a retry loop). */
export const AGENT_TIMEOUT = 60_000

/**
 * The platform binary of Claude Code. Its package's postinstall hard-links it over `bin/claude.exe`; calling
 * the platform package's binary directly also works when install scripts were skipped.
 */
function claudeBinary(): string | undefined {
  const candidates = [
    join(MODULES, '@anthropic-ai', `claude-code-${process.platform}-${process.arch}`, 'claude'),
    join(MODULES, '@anthropic-ai', 'claude-code', 'bin', 'claude.exe'),
  ]
  return candidates.find((file) => existsSync(file))
}

function codexScript(): string | undefined {
  const file = join(MODULES, '@openai', 'codex', 'bin', 'codex.js')
  return existsSync(file) ? file : undefined
}

export const CLAUDE_BIN = claudeBinary()
export const CODEX_JS = codexScript()

/** True when the package resolves from this folder's install (not from the root's). */
export function installed(name: string): boolean {
  return existsSync(join(MODULES, ...name.split('/'), 'package.json'))
}

/** Says once, visibly, why a suite skips. */
export function skipMessage(suite: string, missing: string[]): boolean {
  if (!missing.length) return false
  console.warn(`[test/agents/${suite}] not installed: ${missing.join(', ')} — run \`npm ci --prefix test/agents\`; skipping`)
  return true
}

/**
 * Imports a package of this folder's install. Typed `any` on purpose: the root typecheck must pass on a machine
 * where the agents' packages are not installed.
 */
export async function importAgentPackage(name: string): Promise<any> {
  return import(requireHere.resolve(name))
}

export interface Stack {
  gateway: TestGateway
  openai: MockOpenAI
  anthropic: MockUpstream
  /** The gateway's final records since the stack started (or since the last `clearRecords`). */
  records(): RequestRecord[]
  /** The body and headers the client sent for a record. */
  inbound(record: RequestRecord): { body: any; headers: Record<string, string> } | undefined
  clearRecords(): void
  close(): Promise<void>
}

/** The mock OpenAI and Anthropic upstreams and a real gateway (test/configs/agents-mocks.config.ts) in front. */
export async function startStack(): Promise<Stack> {
  const [openai, anthropic] = await Promise.all([startMockOpenAI(), startMockAnthropic()])
  const gateway = await startGatewayFromFile('agents-mocks.config.ts', { MOCK_OPENAI_URL: openai.url, MOCK_ANTHROPIC_URL: anthropic.url })
  const all: RequestRecord[] = ((globalThis as any).__sluiceAgentRecords ??= [])
  const inbound: Map<string, { body: any; headers: Record<string, string> }> = ((globalThis as any).__sluiceAgentInbound ??= new Map())
  let from = all.length
  return {
    gateway, openai, anthropic,
    records: () => all.slice(from),
    inbound: (record) => inbound.get(record.id),
    clearRecords: () => { from = all.length },
    close: async () => {
      await gateway.close()
      await Promise.all([openai.close(), anthropic.close()])
    },
  }
}

export function tempDir(label: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `sluice-agents-${label}-`))
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) }
}

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  ms: number
}

/** Runs a program with stdin closed, a clean environment, and a deadline (then SIGKILL to its process). */
export function run(command: string, args: string[], opts: { cwd: string; env: Record<string, string>; timeoutMs?: number }): Promise<RunResult> {
  const started = Date.now()
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk) => { stdout += chunk })
    child.stderr.setEncoding('utf8').on('data', (chunk) => { stderr += chunk })
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? AGENT_TIMEOUT - 5_000)
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolvePromise({ code, signal, stdout, stderr, ms: Date.now() - started })
    })
  })
}

/** The environment every agent gets: only PATH from ours, a throwaway HOME, a dumb terminal. */
function baseEnv(home: string): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, TERM: 'dumb', LANG: 'C.UTF-8' }
}

export interface ClaudeRun extends RunResult {
  /** The stream-json lines, parsed. */
  events: any[]
  /** The final `result` event. */
  result: any
}

/**
 * `claude -p PROMPT --output-format stream-json --verbose` in a default session (all tools on) with
 * `bypassPermissions` (IS_SANDBOX=1 lets root use it), pointed at the gateway.
 */
export async function runClaude(opts: { baseURL: string; model: string; prompt: string; cwd: string; home: string }): Promise<ClaudeRun> {
  const configDir = join(opts.home, '.claude-config')
  mkdirSync(configDir, { recursive: true })
  const env = {
    ...baseEnv(opts.home),
    CLAUDE_CONFIG_DIR: configDir,
    ANTHROPIC_BASE_URL: opts.baseURL,
    ANTHROPIC_API_KEY: 'sk-client-key-for-sluice',
    ANTHROPIC_MODEL: opts.model,
    DISABLE_TELEMETRY: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_ERROR_REPORTING: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    CLAUDE_CODE_MAX_RETRIES: '1',
    IS_SANDBOX: '1',
  }
  const args = ['-p', opts.prompt, '--output-format', 'stream-json', '--verbose', '--permission-mode', 'bypassPermissions']
  const result = await run(CLAUDE_BIN!, args, { cwd: opts.cwd, env })
  const events: any[] = []
  for (const line of result.stdout.split('\n')) {
    if (!line.trim()) continue
    try {
      events.push(JSON.parse(line))
    } catch {
      // not JSON: left in stdout for the failure message
    }
  }
  return { ...result, events, result: events.findLast((event) => event.type === 'result') }
}

/** Lines added to Codex's config.toml: top-level keys, and keys of its `[features]` table. */
export interface CodexExtra {
  top?: string
  features?: string
}

/** Codex's config.toml for a gateway: a custom provider on the Responses API, retries short, network extras off. */
export function codexConfig(opts: { baseURL: string; model: string; extra?: CodexExtra }): string {
  return `model = ${JSON.stringify(opts.model)}
model_provider = "sluice"
${opts.extra?.top ?? ''}

[model_providers.sluice]
name = "Sluice"
base_url = ${JSON.stringify(`${opts.baseURL}/v1`)}
env_key = "SLUICE_API_KEY"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
stream_idle_timeout_ms = 20000

[analytics]
enabled = false

[features]
plugins = false
${opts.extra?.features ?? ''}
`
}

export interface CodexRun extends RunResult {
  /** The `--json` lines, parsed. */
  events: any[]
}

/** `codex exec --json` with approvals and the sandbox off, in a throwaway CODEX_HOME, stdin closed. */
export async function runCodex(opts: { baseURL: string; model: string; prompt: string; cwd: string; home: string; extraConfig?: CodexExtra }): Promise<CodexRun> {
  const codexHome = join(opts.home, '.codex')
  mkdirSync(codexHome, { recursive: true })
  writeFileSync(join(codexHome, 'config.toml'), codexConfig({ baseURL: opts.baseURL, model: opts.model, extra: opts.extraConfig }))
  const env = { ...baseEnv(opts.home), CODEX_HOME: codexHome, SLUICE_API_KEY: 'sk-client-key-for-sluice' }
  const args = [CODEX_JS!, 'exec', '--json', '--skip-git-repo-check', '--dangerously-bypass-approvals-and-sandbox', '--ephemeral', opts.prompt]
  const result = await run(process.execPath, args, { cwd: opts.cwd, env })
  const events: any[] = []
  for (const line of result.stdout.split('\n')) {
    if (!line.trim()) continue
    try {
      events.push(JSON.parse(line))
    } catch {
      // not JSON
    }
  }
  return { ...result, events }
}

/** A short account of a run for assertion messages. */
export function describeRun(run: RunResult, extra: unknown = ''): string {
  return `exit ${run.code}${run.signal ? ` (${run.signal})` : ''} after ${run.ms} ms\n--- stdout\n${run.stdout.slice(-3000)}\n--- stderr\n${run.stderr.slice(-3000)}\n${extra ? `--- more\n${typeof extra === 'string' ? extra : JSON.stringify(extra, null, 1).slice(0, 4000)}` : ''}`
}

export const ROOT = resolve(AGENTS_DIR, '../..')
