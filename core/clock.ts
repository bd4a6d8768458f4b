/** The real clock. Tests pass their own `Clock` so limits, retries and breakers run without sleeping. */
import type { Clock } from './types.ts'

export const realClock: Clock = {
  now: () => Date.now(),
  random: () => Math.random(),
  sleep(ms, signal) {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason)
      const timer = setTimeout(done, ms)
      function done() {
        signal?.removeEventListener('abort', aborted)
        resolve()
      }
      function aborted() {
        clearTimeout(timer)
        reject(signal!.reason)
      }
      signal?.addEventListener('abort', aborted, { once: true })
    })
  },
}
