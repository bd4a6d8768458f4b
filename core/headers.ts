/**
 * The headers hooks add to a response (`ctx.responseHeaders`). A Map with the part of the `Headers` API
 * plugins use: a web `Headers` costs about a microsecond per `set` on Node 20, and the response is built from
 * a plain object anyway. `new Headers(bag)` still works (it is an iterable of pairs).
 */
export interface ResponseHeaders extends Iterable<[string, string]> {
  get(name: string): string | null
  set(name: string, value: string): void
  append(name: string, value: string): void
  has(name: string): boolean
  delete(name: string): void
  forEach(callback: (value: string, name: string) => void): void
}

// What Node accepts in a header (RFC 9110 token names; values without control characters). Anything else makes
// Node throw while writing the response, after the handler has returned: checked here, where it can be answered.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/

export function isSafeHeaderName(name: string): boolean {
  return HEADER_NAME.test(name)
}

/** Whether Node can write `value` as a header value. */
export function isSafeHeaderValue(value: string): boolean {
  return !INVALID_VALUE.test(value)
}

function checked(name: string, value: string): [string, string] {
  const text = String(value)
  if (!HEADER_NAME.test(name)) throw new TypeError(`invalid response header name ${JSON.stringify(name.slice(0, 64))}`)
  if (INVALID_VALUE.test(text)) throw new TypeError(`invalid characters in the value of response header "${name}"`)
  return [name.toLowerCase(), text]
}

export class HeaderBag implements ResponseHeaders {
  readonly #map = new Map<string, string>()

  get size(): number {
    return this.#map.size
  }

  get(name: string): string | null {
    return this.#map.get(name.toLowerCase()) ?? null
  }

  /** Throws a TypeError for a name or value Node could not write (so the hook that set it fails, not the response). */
  set(name: string, value: string): void {
    const [key, text] = checked(name, value)
    this.#map.set(key, text)
  }

  append(name: string, value: string): void {
    const [key, text] = checked(name, value)
    const current = this.#map.get(key)
    this.#map.set(key, current === undefined ? text : `${current}, ${text}`)
  }

  has(name: string): boolean {
    return this.#map.has(name.toLowerCase())
  }

  delete(name: string): void {
    this.#map.delete(name.toLowerCase())
  }

  forEach(callback: (value: string, name: string) => void): void {
    this.#map.forEach(callback)
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.#map.entries()
  }

  /** Copies the headers into `target` (a plain object the response is built from). */
  copyTo(target: Record<string, string>): Record<string, string> {
    for (const [name, value] of this.#map) target[name] = value
    return target
  }
}
