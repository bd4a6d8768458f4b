/**
 * Personal data: e-mail addresses, phone numbers, payment card numbers (with the Luhn check) and IBANs (with the
 * ISO 13616 mod-97 check). The checksums keep ordinary numbers (order ids, timestamps) from being taken for
 * cards and bank accounts: a random 16-digit number passes Luhn one time in ten, a random IBAN-shaped string
 * mod-97 about one time in a hundred.
 */
import { RegexDetector, charClass, regexTail, runTail, type Action, type Detector } from './detector.ts'

export const PII_KINDS = ['email', 'phone', 'card', 'iban'] as const
export type PiiKind = (typeof PII_KINDS)[number]

/** The Luhn checksum of a string of digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0
  let double = false
  for (let i = digits.length - 1; i >= 0; i--) {
    let digit = digits.charCodeAt(i) - 48
    if (double && (digit *= 2) > 9) digit -= 9
    sum += digit
    double = !double
  }
  return sum % 10 === 0
}

/** A card number: 13 to 19 digits (spaces and dashes between them ignored), not all zero, passing Luhn. */
export function cardValid(text: string): boolean {
  const digits = text.replace(/[ -]/g, '')
  return digits.length >= 13 && digits.length <= 19 && /[1-9]/.test(digits) && luhnValid(digits)
}

/** An IBAN (spaces ignored): 15 to 34 characters whose mod-97 remainder, country and check digits moved last, is 1. */
export function ibanValid(text: string): boolean {
  const iban = text.replace(/ /g, '').toUpperCase()
  if (iban.length < 15 || iban.length > 34) return false
  const moved = iban.slice(4) + iban.slice(0, 4)
  let remainder = 0
  for (let i = 0; i < moved.length; i++) {
    const code = moved.charCodeAt(i)
    const value = code >= 65 ? code - 55 : code - 48 // A = 10 … Z = 35
    remainder = (remainder * (value > 9 ? 100 : 10) + value) % 97
  }
  return remainder === 1
}

/** International numbers need at least 8 digits (and at most 15, E.164's limit). */
function phoneValid(text: string): boolean {
  const digits = text.replace(/\D/g, '').length
  return text.startsWith('+') ? digits >= 8 && digits <= 15 : digits === 10
}

const EMAIL_CHAR = charClass(/[A-Za-z0-9._%+@-]/)
const PHONE_CHAR = charClass(/[\d ().+-]/)
const PHONE_FIRST = charClass(/[\d(+]/)
const CARD_CHAR = charClass(/[\d -]/)
const DIGIT = charClass(/\d/)

export function piiDetector(kind: PiiKind, rule: string, action: Action): Detector {
  switch (kind) {
    case 'email':
      return new RegexDetector({
        rule, action, maxLength: 254,
        // Starts only where a run of address characters starts, and every part is bounded: a long run with no
        // `@` in it (client input can be megabytes of it) is passed over in linear time, not quadratic.
        pattern: /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}/,
        prefilter: /@/,
        pending: runTail(EMAIL_CHAR, 254),
      })
    case 'phone':
      // `+` and a country code, 8-15 digits in groups; or a North American number with separators
      // (`(415) 555-0100`, `415-555-0100`): bare runs of digits are too often something else.
      return new RegexDetector({
        rule, action, maxLength: 26,
        pattern: /(?<![\w+])(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{1,4}){1,5}|(?:\(\d{3}\) ?|\d{3}[.-])\d{3}[.-]\d{4})(?!\w)/,
        verify: phoneValid,
        prefilter: /\d\d/,
        pending: runTail(PHONE_CHAR, 26, PHONE_FIRST),
      })
    case 'card':
      return new RegexDetector({
        rule, action, maxLength: 38,
        pattern: /(?<![\d-])\d(?:[ -]?\d){12,18}(?!\d)/,
        verify: cardValid,
        prefilter: /\d\d/,
        pending: runTail(CARD_CHAR, 38, DIGIT),
      })
    case 'iban':
      // Country, check digits, then blocks of four (spaces optional), as IBANs are printed.
      return new RegexDetector({
        rule, action, maxLength: 44,
        pattern: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b/,
        verify: ibanValid,
        prefilter: /[A-Z][A-Z]\d\d/,
        pending: regexTail(/\b[A-Z]{1,2}$|\b[A-Z]{2}\d{1,2}$|\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){0,32} ?$/, 44),
      })
  }
}
