/**
 * The input phase (the `limit` hook, once per request however many attempts follow): prompt size, the built-in
 * detectors on every text the model would read, then the checks that take time — those that can block or
 * redact are awaited (on the text as redacted so far: a verdict model never sees what a rule removed), the
 * flag-only ones run beside the upstream call and reach the record.
 */
import { estimateInputTokens } from '../../core/index.ts'
import type { RequestContext } from '../../core/index.ts'
import { runChecks } from './async-checks.ts'
import { blockedError } from './decisions.ts'
import { inputTexts, type InputTexts } from './input-texts.ts'
import { Joined } from './joined.ts'
import type { InputRules } from './rule-sets.ts'
import { scanText } from './scanner.ts'
import { mergedSpans, settleOutcomes, sinkFor, type Env, type GuardState } from './state.ts'

function checkPromptSize(ctx: RequestContext, rules: InputRules, state: GuardState): void {
  if (rules.promptSize.length === 0) return
  const tokens = estimateInputTokens(ctx)
  for (const { rule, action, maxTokens } of rules.promptSize) {
    if (tokens <= maxTokens) continue
    state.decisions.note(rule, 'input', action)
    if (action === 'block') throw blockedError(rule, 'input', `the prompt is about ${tokens} tokens, over the limit of ${maxTokens}`)
  }
}

async function awaitChecks(ctx: RequestContext, rules: InputRules, state: GuardState, env: Env, source: InputTexts, texts: string[]): Promise<void> {
  const joined = new Joined(texts)
  const outcomes = await runChecks(rules.awaited, joined.text, 'input', ctx, env.clock)
  const redactions = settleOutcomes(outcomes, 'input', state, env)
  if (redactions.length > 0) source.write(joined.redact(mergedSpans(redactions), env.replacement(redactions[0]!.rule)))
}

export function checkInput(ctx: RequestContext, state: GuardState, env: Env): void | Promise<void> {
  const rules = state.set.input!
  checkPromptSize(ctx, rules, state)
  if (rules.detectors.length + rules.awaited.length + rules.background.length === 0) return
  const source = inputTexts(ctx)
  if (!source) return
  let texts = source.texts
  if (rules.detectors.length > 0) {
    const sink = sinkFor(state, 'input')
    const scanned = texts.map((text) => scanText(text, rules.detectors, sink, env.replacement))
    if (scanned.some((text, i) => text !== texts[i])) {
      source.write(scanned)
      texts = scanned
    }
  }
  if (rules.background.length > 0) {
    const text = new Joined(texts).text
    state.pending.push(runChecks(rules.background, text, 'input', ctx, env.clock).then((outcomes) => void settleOutcomes(outcomes, 'input', state, env)))
  }
  if (rules.awaited.length > 0) return awaitChecks(ctx, rules, state, env, source, texts)
}
