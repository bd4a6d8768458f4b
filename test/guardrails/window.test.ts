/**
 * The sliding window: however a text is cut into deltas, what leaves is what a check of the whole text gives,
 * a block is thrown before any of the matched text is released, and what waits is bounded by the rules.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { TextWindow, scanText, type ScanSink } from '../../plugins/guardrails/scanner.ts'
import { piiDetector, PII_KINDS } from '../../plugins/guardrails/pii.ts'
import { secretDetector, SECRET_KINDS } from '../../plugins/guardrails/secrets.ts'
import { WordsDetector } from '../../plugins/guardrails/denylist.ts'
import type { Action, Detector } from '../../plugins/guardrails/detector.ts'
import { PEM } from './fixtures.ts'

class Blocked extends Error {
  constructor(readonly rule: string) {
    super(`blocked by ${rule}`)
  }
}

function sink(hits: string[] = []): ScanSink {
  return {
    hit: (rule, action) => void hits.push(`${rule}:${action}`),
    block: (rule) => { throw new Blocked(rule) },
  }
}

const replacement = (rule: string) => `[${rule}]`

function detectors(action: Action): Detector[] {
  return [
    ...PII_KINDS.map((kind) => piiDetector(kind, kind, action)),
    ...SECRET_KINDS.map((kind) => secretDetector(kind, kind, action)),
    new WordsDetector('denylist', action, ['Project Bluebird', 'codename']),
  ]
}

/** Streams `pieces` through a window; the released text (and the most it held back after any delta). */
function stream(pieces: string[], list: Detector[], hits: string[] = []): { text: string; released: string[] } {
  const window = new TextWindow(list, sink(hits), replacement)
  const released = pieces.map((piece) => window.push(piece))
  released.push(window.end())
  return { text: released.join(''), released }
}

const SECRETS = [
  'jane.doe@example.com', '+44 20 7946 0958', '(415) 555-0100', '4111 1111 1111 1111', 'DE89 3704 0044 0532 0130 00',
  'sk-proj-abcdefghijklmnop1234', 'AKIAIOSFODNN7EXAMPLE', PEM, 'Project Bluebird', 'codename',
]
const FILLER = ['Hello there, ', 'the answer is ', 'ok. ', 'see ', '\n', 'it costs 42 ', 'project ', 'sk ', 'AKI ', '-- ', 'blue ']

describe('a match split across deltas', () => {
  it('is redacted at every split point, for every kind', () => {
    for (const secret of SECRETS) {
      const text = `before ${secret} after`
      const whole = scanText(text, detectors('redact'), sink(), replacement)
      expect(whole).not.toContain(secret)
      for (let cut = 1; cut < text.length; cut++) {
        expect(stream([text.slice(0, cut), text.slice(cut)], detectors('redact')).text).toBe(whole)
      }
    }
  })

  it('is blocked at every split point before any of it is released', () => {
    for (const secret of SECRETS) {
      const text = `before ${secret} after`
      for (let cut = 1; cut < text.length; cut++) {
        const window = new TextWindow(detectors('block'), sink(), replacement)
        let released = ''
        expect(() => {
          released += window.push(text.slice(0, cut))
          released += window.push(text.slice(cut))
          released += window.end()
        }).toThrow(Blocked)
        // Whatever went out before the block holds no part of the secret longer than 2 characters.
        expect(released.length).toBeLessThanOrEqual('before '.length)
      }
    }
  })

  it('gives what a whole-text check gives, however the text is cut (property)', () => {
    const text = fc.array(fc.oneof(fc.constantFrom(...SECRETS), fc.constantFrom(...FILLER), fc.string({ maxLength: 6 })), { minLength: 1, maxLength: 12 }).map((parts) => parts.join(''))
    fc.assert(fc.property(text, fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 40 }), (whole, sizes) => {
      const pieces: string[] = []
      for (let at = 0, i = 0; at < whole.length; i++) {
        const size = sizes[i % sizes.length]!
        pieces.push(whole.slice(at, at + size))
        at += size
      }
      const hitsWhole: string[] = []
      const hitsStream: string[] = []
      const expected = scanText(whole, detectors('redact'), sink(hitsWhole), replacement)
      expect(stream(pieces, detectors('redact'), hitsStream).text).toBe(expected)
      expect(hitsStream.sort()).toEqual(hitsWhole.sort())
    }), { numRuns: 300 })
  })
  it('gives what a whole-text check gives on text made of near-secrets (property)', () => {
    const bits = fc.constantFrom(...'sk-0123456789 @.abcdDEGIKNRSWT+()\n_'.split(''), 'sk-', 'AKIA', '4111', 'DE89', '@ex.com', '-----BEGIN ', ' PRIVATE KEY-----', '-----END RSA PRIVATE KEY-----', 'Project Blue', 'bird')
    fc.assert(fc.property(fc.array(bits, { maxLength: 80 }).map((parts) => parts.join('')), fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 20 }), (whole, sizes) => {
      const pieces: string[] = []
      for (let at = 0, i = 0; at < whole.length; i++) {
        pieces.push(whole.slice(at, at + sizes[i % sizes.length]!))
        at += sizes[i % sizes.length]!
      }
      expect(stream(pieces, detectors('redact')).text).toBe(scanText(whole, detectors('redact'), sink(), replacement))
    }), { numRuns: 1000 })
  })
})

describe('what the window holds back', () => {
  it('in prose: only the last word (an e-mail address could start there), and nothing a secret rule could not need', () => {
    const list = detectors('redact')
    const { released } = stream(['Hello the', 're, Project Blue', 'bird ships ', 'today.'], list)
    expect(released).toEqual(['Hello ', 'there, ', '[denylist] ships ', '', 'today.']) // "today." could go on as today.x@example.com
    const secretsOnly = SECRET_KINDS.map((kind) => secretDetector(kind, kind, 'redact'))
    expect(stream(['Hello the', 're, all fine ', 'today.'], secretsOnly).released).toEqual(['Hello the', 're, all fine ', 'today.', ''])
  })

  it('never more than the longest match a rule allows, even for text that keeps looking like one', () => {
    const card = piiDetector('card', 'card', 'redact')
    const window = new TextWindow([card], sink(), replacement)
    let most = 0
    for (let i = 0; i < 200; i++) {
      window.push('1 ')
      most = Math.max(most, window.holding)
    }
    expect(most).toBeLessThanOrEqual(card.maxLength)
  })

  it('a match longer than its rule allows is acted on as it stands rather than held without end', () => {
    const sk = secretDetector('sk-key', 'sk', 'redact')
    const window = new TextWindow([sk], sink(), replacement)
    let out = window.push('key: sk-')
    for (let i = 0; i < 100; i++) out += window.push('abcdefgh')
    expect(window.holding).toBeLessThanOrEqual(sk.maxLength)
    expect(out).toContain('[sk]')
    expect(out).not.toContain('sk-abcdefgh')
  })
})

describe('client input of any shape', () => {
  it('is scanned in linear time: a megabyte of near-matches is checked, not a stall', () => {
    // With unanchored, unbounded patterns (`[\w.+-]+@…`) several of these are quadratic: about 40 minutes for a
    // megabyte on this machine, so a regression never finishes. Nothing here is timed.
    for (const unit of ['a', '1 ', 'a.', 'a@', '-----BEGIN ', 'eyJ', 'sk-', 'DE89 ', '+1 ', 'project ']) {
      const text = unit.repeat(Math.ceil(1_000_000 / unit.length))
      const hits: string[] = []
      expect(scanText(text, detectors('flag'), sink(hits), replacement)).toBe(text)
    }
  })
})
