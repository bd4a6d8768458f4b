/**
 * Credentials by their shapes: `sk-…` keys (OpenAI, Anthropic, and the many services that copied the prefix),
 * vendor API keys and tokens with a fixed prefix (AWS access key ids, GitHub, GitLab, Slack, Google, Stripe,
 * JWTs), and PEM private keys. A private key is matched from its `-----BEGIN … PRIVATE KEY-----` line through
 * its END line, so `redact` removes the whole key; a stream holds a key back from its BEGIN line on.
 */
import { RegexDetector, charClass, tokenTail, type Action, type Detector } from './detector.ts'

export const SECRET_KINDS = ['sk-key', 'api-key', 'private-key'] as const
export type SecretKind = (typeof SECRET_KINDS)[number]

const TOKEN_BODY = charClass(/[A-Za-z0-9_-]/)
const JWT_BODY = charClass(/[A-Za-z0-9_.-]/)
const PEM_HEADER = charClass(/[A-Z0-9 -]/)

/** Prefixes that start vendor keys; what follows them is matched by API_KEY below. */
const API_KEY_STARTS = [
  'AKIA', 'ASIA', 'ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_', 'glpat-', 'AIza',
  'xoxa-', 'xoxb-', 'xoxe-', 'xoxo-', 'xoxp-', 'xoxr-', 'xoxs-', 'sk_live_', 'sk_test_', 'rk_live_', 'rk_test_', 'eyJ',
]

const API_KEY = new RegExp([
  '(?<![A-Za-z0-9_-])(?:',
  [
    '(?:AKIA|ASIA)[0-9A-Z]{16}', // AWS access key id
    'gh[pousr]_[A-Za-z0-9]{36,251}', // GitHub tokens
    'github_pat_[A-Za-z0-9_]{22,244}',
    'glpat-[A-Za-z0-9_-]{20,250}', // GitLab
    'AIza[0-9A-Za-z_-]{35}', // Google API key
    'xox[abeoprs]-[A-Za-z0-9-]{10,250}', // Slack
    '(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,247}', // Stripe
    'eyJ[A-Za-z0-9_-]{8,}\\.eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}', // JWT
  ].join('|'),
  ')(?![A-Za-z0-9_-])',
].join(''))

export function secretDetector(kind: SecretKind, rule: string, action: Action): Detector {
  switch (kind) {
    case 'sk-key':
      return new RegexDetector({
        rule, action, maxLength: 256,
        pattern: /(?<![A-Za-z0-9_-])sk-[A-Za-z0-9_-]{16,253}/,
        prefilter: /sk-/,
        pending: tokenTail(['sk-'], TOKEN_BODY, 256),
      })
    case 'api-key':
      return new RegexDetector({
        rule, action, maxLength: 1024,
        pattern: API_KEY,
        prefilter: /AKIA|ASIA|gh[pousr]_|github_pat_|glpat-|AIza|xox|_live_|_test_|eyJ/,
        pending: tokenTail(API_KEY_STARTS, JWT_BODY, 1024),
      })
    case 'private-key':
      // An RSA-4096 PEM is about 3,300 characters; the bound leaves room for an 8192-bit one. A key that is
      // never closed is matched to the end of the text.
      return new RegexDetector({
        rule, action, maxLength: 8192,
        prefilter: /-----BEGIN /,
        pattern: /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|$)/,
        pending: tokenTail(['-----BEGIN '], PEM_HEADER, 64, () => false), // the pattern needs no boundary before it
      })
  }
}
