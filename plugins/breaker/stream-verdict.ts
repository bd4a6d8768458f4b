/**
 * A streamed response resolves `call` at its first chunk, but can still break afterwards (idle or total
 * timeout, connection lost). This hands the stream on unchanged and reports how it ended, exactly once:
 * `ended` when it completed, `failed` when reading it threw, `abandoned` when it was cancelled (the client
 * left, or a plugin discarded it).
 */
export interface StreamVerdict {
  ended(): void
  failed(error: unknown): void
  abandoned(): void
}

/** Works on either kind of stream a provider returns: SSE bytes (`stream`) or neutral-view deltas (`deltas`). */
export function judgeStream<T>(stream: AsyncIterable<T>, verdict: StreamVerdict): AsyncIterable<T> {
  const iterator = stream[Symbol.asyncIterator]()
  let judged = false
  const once = (report: () => void) => {
    if (judged) return
    judged = true
    report()
  }
  const judged$: AsyncIterableIterator<T> = {
    [Symbol.asyncIterator]: () => judged$,
    async next() {
      let result: IteratorResult<T>
      try {
        result = await iterator.next()
      } catch (error) {
        once(() => verdict.failed(error))
        throw error
      }
      if (result.done) once(() => verdict.ended())
      return result
    },
    async return(value?: unknown) {
      once(() => verdict.abandoned())
      // Ending the iteration cancels the upstream request (the ProviderResponse contract).
      const result = await iterator.return?.(value)
      return result ?? { done: true, value: undefined }
    },
  }
  return judged$
}
