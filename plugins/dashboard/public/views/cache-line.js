// The overview's response-cache line: hit rate and USD saved by the cache() plugin on this gateway process
// (GET /admin/cache). Absent when the cache is not configured (404). Refreshes itself while it is on the page.
import { ApiError } from '../api.js'
import { fmt, h, replace } from '../dom.js'

const REFRESH_MS = 3000

export function cacheLine(api) {
  const el = h('div', { class: 'notice notice-info', id: 'overview-cache', role: 'status', hidden: true })
  async function load() {
    try {
      render(await api('/admin/cache'))
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return // no cache() in this gateway: stays hidden
    }
    if (el.isConnected) setTimeout(load, REFRESH_MS) // stops once the overview is left
  }
  function render(s) {
    el.hidden = false
    replace(el,
      h('strong', {}, 'Response cache'), ` (${s.store}, this process since ${fmt.dateTime(s.since)}): hit rate `,
      h('strong', { id: 'cache-hit-rate' }, s.hitRate === null ? '–' : fmt.pct(s.hitRate)),
      ` · ${fmt.int(s.hits)} hits, ${fmt.int(s.misses)} misses, ${fmt.int(s.bypassed)} bypassed · saved `,
      h('strong', { id: 'cache-saved' }, fmt.usd(s.savedUSD)),
      s.entries === undefined ? '' : ` · ${fmt.int(s.entries)} entries`)
  }
  load()
  return el
}
