/**
 * The built-in detectors on their own: what each finds, the near-misses it must leave alone (checksums, word
 * boundaries), and how little of a growing text each says is still pending.
 */
import { describe, expect, it } from 'vitest'
import { cardValid, ibanValid, luhnValid, piiDetector } from '../../plugins/guardrails/pii.ts'
import { secretDetector } from '../../plugins/guardrails/secrets.ts'
import { WordsDetector, patternDetector } from '../../plugins/guardrails/denylist.ts'
import type { Detector } from '../../plugins/guardrails/detector.ts'
import { PEM } from './fixtures.ts'

const found = (detector: Detector, text: string) => detector.find(text).map((span) => text.slice(span.start, span.end))
/** What a detector says must wait at the end of `text`. */
const pending = (detector: Detector, text: string) => text.slice(detector.pendingFrom(text))


describe('checksums', () => {
  it('Luhn accepts card numbers and refuses a changed digit', () => {
    expect(luhnValid('4111111111111111')).toBe(true)
    expect(luhnValid('4111111111111112')).toBe(false)
    expect(cardValid('3782 822463 10005')).toBe(true) // Amex, 15 digits
    expect(cardValid('0000 0000 0000 0000')).toBe(false) // passes Luhn, is no card
    expect(cardValid('4111 1111 1111')).toBe(false) // 12 digits
  })

  it('mod-97 accepts IBANs and refuses a changed digit', () => {
    expect(ibanValid('DE89 3704 0044 0532 0130 00')).toBe(true)
    expect(ibanValid('GB82WEST12345698765432')).toBe(true)
    expect(ibanValid('NO9386011117947')).toBe(true) // the shortest country format, 15
    expect(ibanValid('DE89 3704 0044 0532 0130 01')).toBe(false)
  })
})

describe('personal data', () => {
  it('finds e-mail addresses', () => {
    const email = piiDetector('email', 'pii.email', 'redact')
    expect(found(email, 'mail jane.doe+x@mail.example.co.uk, or bob@example.com.')).toEqual(['jane.doe+x@mail.example.co.uk', 'bob@example.com'])
    expect(found(email, 'user@localhost and @handle')).toEqual([])
  })

  it('finds phone numbers with a country code or North American separators, not dates or short numbers', () => {
    const phone = piiDetector('phone', 'pii.phone', 'redact')
    expect(found(phone, 'call +1 415 555 0100 or +44 20 7946 0958 or (415) 555-0100 or 415.555.0100')).toEqual([
      '+1 415 555 0100', '+44 20 7946 0958', '(415) 555-0100', '415.555.0100',
    ])
    expect(found(phone, 'on 2024-01-15 at 12:30, order 123456, +12 3')).toEqual([])
  })

  it('finds card numbers that pass Luhn, with or without separators', () => {
    const card = piiDetector('card', 'pii.card', 'block')
    expect(found(card, 'pay 4111 1111 1111 1111 or 4242-4242-4242-4242 or 378282246310005.')).toEqual([
      '4111 1111 1111 1111', '4242-4242-4242-4242', '378282246310005',
    ])
    expect(found(card, 'order 4111 1111 1111 1112 and id 1234567890123')).toEqual([])
  })

  it('finds IBANs that pass mod-97, printed in blocks or not', () => {
    const iban = piiDetector('iban', 'pii.iban', 'redact')
    expect(found(iban, 'to DE89 3704 0044 0532 0130 00 or GB82WEST12345698765432 NOW')).toEqual(['DE89 3704 0044 0532 0130 00', 'GB82WEST12345698765432'])
    expect(found(iban, 'to DE89 3704 0044 0532 0130 01')).toEqual([])
  })
})

describe('secrets', () => {
  it('finds sk- keys, not words that end in sk-', () => {
    const sk = secretDetector('sk-key', 'secrets.sk-key', 'block')
    expect(found(sk, 'key sk-proj-abcdefghijklmnop1234 and sk-ant-api03-ABCDEFGHIJKLMNOPQRST')).toEqual(['sk-proj-abcdefghijklmnop1234', 'sk-ant-api03-ABCDEFGHIJKLMNOPQRST'])
    expect(found(sk, 'task-abcdefghijklmnopqrst, sk-short')).toEqual([])
  })

  it('finds vendor API keys and JWTs by their shapes', () => {
    const api = secretDetector('api-key', 'secrets.api-key', 'block')
    const keys = [
      'AKIAIOSFODNN7EXAMPLE',
      `ghp_${'a1B2c3D4e5'.repeat(3)}abcdef`,
      'AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q',
      'xoxb-123456789012-abcdefABCDEF',
      `sk_live_${'4eC39HqLyjWDarjtT1zdp7dc'}`,
      'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
    ]
    expect(found(api, keys.join(' and '))).toEqual(keys)
    expect(found(api, 'AKIA is a prefix, AKIAIOSFODNN7EXAMPLEX is too long, ghp_short')).toEqual([])
  })

  it('finds a private key from its BEGIN line through its END line, or to the end when it is not closed', () => {
    const key = secretDetector('private-key', 'secrets.private-key', 'redact')
    expect(found(key, `here:\n${PEM}\nthat's it`)).toEqual([PEM])
    expect(found(key, `here:\n${PEM.slice(0, 80)}`)).toEqual([PEM.slice(0, 80)])
    expect(found(key, '-----BEGIN PUBLIC KEY-----\nMIIB')).toEqual([])
  })
})

describe('denylists', () => {
  it('matches words and phrases whole, in any case, across any whitespace', () => {
    const words = new WordsDetector('denylist', 'block', ['Bluebird', 'project  x'])
    expect(found(words, 'bluebird! BLUEBIRD and Project\n X')).toEqual(['bluebird', 'BLUEBIRD', 'Project\n X'])
    expect(found(words, 'bluebirds, ProjectX, project xy')).toEqual([])
  })

  it('matches the operator\'s regexes', () => {
    const ticket = patternDetector('denylist', 'flag', { pattern: /ACME-\d{4}/i, maxLength: 9, spaces: false })
    expect(found(ticket, 'see acme-1234 and ACME-5678')).toEqual(['acme-1234', 'ACME-5678'])
  })
})

describe('what stays pending at the end of a growing text', () => {
  it('only a possible beginning of a match', () => {
    const sk = secretDetector('sk-key', 'k', 'block')
    expect(pending(sk, 'my key is sk-ab')).toBe('sk-ab')
    expect(pending(sk, 'my key is s')).toBe('s')
    expect(pending(sk, 'it is a task')).toBe('') // "task" cannot begin a key
    const card = piiDetector('card', 'c', 'block')
    expect(pending(card, 'card 4111 11')).toBe('4111 11')
    expect(pending(card, 'in 2024 we')).toBe('')
    const words = new WordsDetector('d', 'block', ['Project Bluebird'])
    expect(pending(words, 'the project blue')).toBe('project blue')
    expect(pending(words, 'the projector')).toBe('')
    const key = secretDetector('private-key', 'p', 'block')
    expect(pending(key, 'key: -----BEG')).toBe('-----BEG')
    expect(pending(key, 'a list:\n-----')).toBe('-----')
    expect(pending(key, 'done -- ok')).toBe('')
  })

  it('for e-mail, the last word: any word may be the start of an address', () => {
    const email = piiDetector('email', 'e', 'redact')
    expect(pending(email, 'Hello there')).toBe('there')
    expect(pending(email, 'Hello there, ')).toBe('')
  })
})
