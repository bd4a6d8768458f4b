/**
 * `guardrails()`: checks on what goes into a model and what comes out of it, for every client and provider
 * format, streamed or not.
 *
 *   guardrails({
 *     rules: [
 *       { type: 'secrets', action: 'block' },
 *       { type: 'pii', kinds: ['email', 'phone', 'card', 'iban'], action: 'redact' },
 *       { type: 'denylist', words: ['Project Bluebird'], action: 'block' },
 *       { type: 'prompt-size', maxTokens: 50_000 },
 *       { type: 'json-schema' },
 *       { type: 'model', name: 'injection', model: 'openai/gpt-4o-mini', policy: 'prompt injection' },
 *     ],
 *     routes: { 'internal-*': [] },             // per requested model or alias (globs)
 *     keys: { 'ci-*': [{ type: 'secrets', action: 'flag' }] },   // per key id or name (globs)
 *   })
 *
 * Hooks: `route` picks the request's rule set and returns a settle function that writes its decisions on the
 * record; `limit` checks the input; `stream` handlers check the output on a sliding window; a `call` hook holds
 * the whole reply only for checks that must see all of it before it may leave. Only the hooks some rule set
 * needs are registered, and a request whose set has no rules for a phase skips it.
 */
import { ConfigError, codecFor, definePlugin } from '../../core/index.ts'
import type { PluginContext, PluginHooks, RequestContext, RequestRecord, Settle } from '../../core/index.ts'
import { runChecks } from './async-checks.ts'
import { RequestDecisions } from './decisions.ts'
import { checkInput } from './input.ts'
import { chatFormatOf, splitModel } from './model-verdict.ts'
import { parseGuardrailsOptions, type GuardrailsOptions, type GuardrailsSettings } from './options.ts'
import { outputHandlers } from './output-stream.ts'
import { holdOutput } from './output-whole.ts'
import { RuleSets } from './rule-sets.ts'
import { settleOutcomes, stateOf, type Env, type GuardState } from './state.ts'
import { Joined } from './joined.ts'

export type { GuardrailsOptions, GuardrailRule } from './options.ts'
export type { CustomCheck, CheckInfo } from './async-checks.ts'
export type { Span } from './detector.ts'
export { TAG_PREFIX } from './decisions.ts'

/** What `sluice check` and the dashboard show: rule names and types, never words or patterns (often secrets). */
function summary(settings: GuardrailsSettings): Record<string, unknown> {
  const list = (rules: GuardrailsSettings['rules']) => rules.map((rule) => `${rule.name} (${rule.type}${'action' in rule ? `, ${rule.action}` : ''})`)
  const sets = (table: Record<string, GuardrailsSettings['rules']>) => Object.fromEntries(Object.entries(table).map(([name, rules]) => [name, list(rules)]))
  return { rules: list(settings.rules), routes: sets(settings.routes), keys: `${Object.keys(settings.keys).length} key rule sets` }
}

/** The verdict targets must be providers that exist and speak a chat format. */
function checkTargets(settings: GuardrailsSettings, gw: PluginContext): void {
  const all = [settings.rules, ...Object.values(settings.routes), ...Object.values(settings.keys)].flat()
  for (const rule of all) {
    if (rule.type !== 'model') continue
    const target = splitModel(rule.model)
    const provider = gw.getProvider(target.provider)
    if (!provider || !chatFormatOf(provider, target.model)) throw new ConfigError(`guardrails: rule "${rule.name}": no chat provider serves "${rule.model}"`)
  }
}

/** Ends a request's guardrails: verdicts still running, checks on the finished reply, then the record's tags. */
async function finish(record: RequestRecord, ctx: RequestContext, state: GuardState, env: Env): Promise<void> {
  if (state.pending.length > 0) await Promise.all(state.pending)
  const after = state.set.output?.after ?? []
  if (after.length > 0 && record.status === 200 && state.reply?.length) {
    settleOutcomes(await runChecks(after, new Joined(state.reply).text, 'output', ctx, env.clock), 'output', state, env)
  }
  if (state.decisions.size > 0) record.tags = state.decisions.tagged(record.tags)
}

export const guardrails = definePlugin((input: GuardrailsOptions = {}) => {
  const settings = parseGuardrailsOptions(input)
  const replacement = (rule: string) => settings.replacement.replaceAll('{rule}', rule)

  return {
    name: 'guardrails',
    options: summary(settings),
    setup(gw) {
      const sets = new RuleSets(settings, gw)
      const env: Env = { clock: gw.clock, logger: gw.logger, replacement }
      gw.onReady(() => checkTargets(settings, gw))
      if (!sets.some((set) => set.input !== undefined || set.output !== undefined)) return // no rules: no hooks

      const hooks: PluginHooks = {
        route(ctx): Settle | void {
          const set = sets.for(ctx)
          if (!set.input && !set.output) return
          const kind = codecFor(ctx.api).kind
          if (kind !== 'chat' && ctx.api !== 'openai-embeddings') return
          const state: GuardState = { set: kind === 'chat' ? set : { input: set.input }, decisions: new RequestDecisions(), pending: [], outputChecked: false }
          ctx.state.guardrails = state
          return (record) => finish(record, ctx, state, env)
        },
      }
      if (sets.some((set) => set.input !== undefined)) {
        hooks.limit = (ctx) => {
          const state = stateOf(ctx)
          if (state?.set.input) return checkInput(ctx, state, env)
        }
      }
      if (sets.some((set) => set.output !== undefined)) {
        hooks.stream = (ctx) => {
          const state = stateOf(ctx)
          if (state?.set.output && !state.outputChecked) return outputHandlers(ctx, state, env)
        }
      }
      if (sets.some((set) => (set.output?.hold.length ?? 0) > 0)) hooks.call = holdOutput(env)
      return { hooks }
    },
  }
})
