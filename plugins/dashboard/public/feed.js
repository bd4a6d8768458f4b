// The live feed: GET /admin/dashboard/feed (every replica's records, with dashboard({ fleet })), else GET
// /admin/events (this process's), read with fetch() and a stream reader (EventSource cannot send the
// Authorization header). Reconnects with backoff whenever the stream ends or the gateway goes away.

/** Splits SSE text into events; returns the parsed events and the unfinished rest. */
export function parseSSE(buffer) {
  const events = []
  const blocks = buffer.split(/\r?\n\r?\n/)
  const rest = blocks.pop() ?? ''
  for (const block of blocks) {
    let event = 'message'
    const data = []
    for (const line of block.split(/\r?\n/)) {
      if (!line || line.startsWith(':')) continue
      const colon = line.indexOf(':')
      const field = colon === -1 ? line : line.slice(0, colon)
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '')
      if (field === 'event') event = value
      else if (field === 'data') data.push(value)
    }
    if (data.length) events.push({ event, data: data.join('\n') })
  }
  return { events, rest }
}

/**
 * Opens the feed and keeps it open. `onRecord(record)`, `onLagged(skipped)`, `onStatus({ state, detail })` with
 * state: connecting | open | retrying | unavailable | unauthorized | stopped. Returns stop().
 */
export function openFeed({ key, onRecord, onLagged, onStatus }) {
  let stopped = false
  let controller
  let delay = 500
  let timer
  const paths = ['/admin/dashboard/feed', '/admin/events']

  const schedule = (ms, state, detail) => {
    onStatus({ state, detail, retryInMs: ms })
    timer = setTimeout(connect, ms)
  }

  async function connect() {
    if (stopped) return
    controller = new AbortController()
    onStatus({ state: 'connecting' })
    let response
    try {
      response = await fetch(paths[0], { headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream' }, cache: 'no-store', signal: controller.signal })
    } catch {
      if (stopped) return
      delay = Math.min(delay * 2, 5000)
      return schedule(delay, 'retrying', 'The gateway is not reachable.')
    }
    if (response.status === 401) {
      onStatus({ state: 'unauthorized' })
      window.dispatchEvent(new CustomEvent('sluice:unauthorized'))
      return
    }
    if (response.status === 404 && paths.length > 1) {
      paths.shift() // no fleet feed: this process's own
      return connect()
    }
    if (response.status === 404) {
      // No usage plugin (or no admin API): check again now and then, in case the gateway is restarted with one.
      return schedule(15_000, 'unavailable', 'The live feed needs the usage plugin: GET /admin/events answers 404.')
    }
    if (!response.ok || !response.body) {
      delay = Math.min(delay * 2, 5000)
      return schedule(delay, 'retrying', `The feed answered ${response.status}.`)
    }
    delay = 500
    onStatus({ state: 'open' })
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
    let buffer = ''
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        const parsed = parseSSE(buffer + value)
        buffer = parsed.rest
        for (const { event, data } of parsed.events) {
          let payload
          try {
            payload = JSON.parse(data)
          } catch {
            continue
          }
          if (event === 'record') onRecord(payload)
          else if (event === 'lagged') onLagged(payload.skipped ?? 0)
        }
      }
    } catch {
      // connection dropped (gateway restarting) or stop() aborted it
    }
    if (!stopped) schedule(delay, 'retrying', 'The feed was interrupted.')
  }

  connect()
  return () => {
    stopped = true
    clearTimeout(timer)
    controller?.abort()
    onStatus({ state: 'stopped' })
  }
}
