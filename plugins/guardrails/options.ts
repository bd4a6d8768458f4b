/** `guardrails()` options: rules, and the rule sets per key and per route. Validated once, at config load. */
import { parseOptions, z } from '../../core/index.ts'
import { PII_KINDS } from './pii.ts'
import { SECRET_KINDS } from './secrets.ts'
import { DEFAULT_VERDICT_PROMPT } from './model-verdict.ts'
import type { CustomCheck } from './async-checks.ts'

const action = z.enum(['block', 'redact', 'flag'])
const verdictAction = z.enum(['block', 'flag'])
const phases = z.array(z.enum(['input', 'output'])).min(1)
/** Shown in errors, metrics labels and record tags: a plain name. */
const ruleName = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'a rule name is 1-64 letters, digits and _ . : -')
const failMode = z.enum(['open', 'closed'])

const pattern = z.union([
  z.instanceof(RegExp),
  z.strictObject({
    pattern: z.instanceof(RegExp),
    /** The longest a match can be (what a stream may hold back for it). */
    maxLength: z.number().int().min(1).max(8192).default(64),
    /** Whether a match may contain whitespace. */
    spaces: z.boolean().default(false),
  }),
])

const denylist = z.strictObject({
  type: z.literal('denylist'),
  name: ruleName.default('denylist'),
  words: z.array(z.string().trim().min(1)).default([]),
  patterns: z.array(pattern).default([]),
  action,
  on: phases.default(['input', 'output']),
}).refine((rule) => rule.words.length + rule.patterns.length > 0, { message: 'a denylist needs words or patterns' })

const pii = z.strictObject({
  type: z.literal('pii'),
  name: ruleName.default('pii'),
  kinds: z.array(z.enum(PII_KINDS)).min(1).default([...PII_KINDS]),
  action,
  on: phases.default(['input', 'output']),
})

const secrets = z.strictObject({
  type: z.literal('secrets'),
  name: ruleName.default('secrets'),
  kinds: z.array(z.enum(SECRET_KINDS)).min(1).default([...SECRET_KINDS]),
  action,
  on: phases.default(['input', 'output']),
})

const promptSize = z.strictObject({
  type: z.literal('prompt-size'),
  name: ruleName.default('prompt-size'),
  maxTokens: z.number().int().positive(),
  action: verdictAction.default('block'),
})

const jsonSchema = z.strictObject({
  type: z.literal('json-schema'),
  name: ruleName.default('json-schema'),
  action: verdictAction.default('block'),
  /** The longest reply validated (and, with `block`, held): a longer one fails the rule. */
  maxChars: z.number().int().positive().default(1_000_000),
})

const timeoutMs = z.number().int().positive()

const custom = z.strictObject({
  type: z.literal('custom'),
  name: ruleName,
  check: z.custom<CustomCheck>((value) => typeof value === 'function', 'must be a function'),
  action,
  on: phases.default(['input']),
  /** Default: `closed` for block and redact, `open` for flag. */
  failMode: failMode.optional(),
  timeoutMs: timeoutMs.default(5_000),
})

const model = z.strictObject({
  type: z.literal('model'),
  name: ruleName,
  /** `provider/model`, served by a configured provider. */
  model: z.string().regex(/^[^/\s]+\/\S+$/, 'must be provider/model'),
  /** What the verdict model looks for ("prompt injection or attempts to extract the system prompt"). */
  policy: z.string().min(1),
  prompt: z.string().min(1).default(DEFAULT_VERDICT_PROMPT),
  action: verdictAction.default('block'),
  on: phases.default(['input']),
  failMode: failMode.optional(),
  timeoutMs: timeoutMs.default(10_000),
  /** The most text sent for a verdict (the end of a longer text). */
  maxChars: z.number().int().positive().default(32_000),
  maxTokens: z.number().int().positive().default(16),
})

const rule = z.discriminatedUnion('type', [denylist, pii, secrets, promptSize, jsonSchema, custom, model])

const ruleList = z.array(rule).superRefine((rules, ctx) => {
  const seen = new Set<string>()
  let json = false
  for (const [i, rule] of rules.entries()) {
    if (seen.has(rule.name)) ctx.addIssue({ code: 'custom', message: `two rules are named "${rule.name}"`, path: [i, 'name'] })
    seen.add(rule.name)
    if (rule.type === 'json-schema' && json) ctx.addIssue({ code: 'custom', message: 'one json-schema rule per rule set', path: [i, 'type'] })
    json ||= rule.type === 'json-schema'
  }
})

export const optionsSchema = z.strictObject({
  /** The rules every request gets, unless a key's or a route's own set applies. */
  rules: ruleList.default([]),
  /** Rule sets by requested model or alias (globs with `*`); they replace `rules` for those requests. */
  routes: z.record(z.string().min(1), ruleList).default({}),
  /** Rule sets by principal id or name (globs with `*`), as the auth plugin sets them; they win over routes. */
  keys: z.record(z.string().min(1), ruleList).default({}),
  /** What replaces redacted text; `{rule}` is the rule's name. */
  replacement: z.string().default('[redacted]'),
})

export type GuardrailsOptions = z.input<typeof optionsSchema>
export type GuardrailsSettings = z.output<typeof optionsSchema>
export type GuardrailRule = z.input<typeof rule>
export type RuleSettings = z.output<typeof rule>

export function parseGuardrailsOptions(input: GuardrailsOptions): GuardrailsSettings {
  return parseOptions('guardrails', optionsSchema, input)
}
