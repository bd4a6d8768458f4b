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

export class HeaderBag implements ResponseHeaders {
  readonly #map = new Map<string, string>()

  get size(): number {
    return this.#map.size
  }

  get(name: string): string | null {
    return this.#map.get(name.toLowerCase()) ?? null
  }

  set(name: string, value: string): void {
    this.#map.set(name.toLowerCase(), String(value))
  }

  append(name: string, value: string): void {
    const key = name.toLowerCase()
    const current = this.#map.get(key)
    this.#map.set(key, current === undefined ? String(value) : `${current}, ${value}`)
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
