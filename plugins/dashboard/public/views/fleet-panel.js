// The overview's fleet panel (dashboard({ fleet })): every replica with a recent heartbeat, its requests in flight,
// its circuits not closed, and its last five minutes (requests, errors, p50/p95 latency). Absent without fleet
// (GET /admin/dashboard/fleet answers 404). Refreshes itself while it is on the page.
import { ApiError } from '../api.js'
import { fmt, h, replace } from '../dom.js'

const REFRESH_MS = 3000

export function fleetPanel(api) {
  const el = h('section', { class: 'panel', id: 'overview-fleet', hidden: true })
  async function load() {
    try {
      render(await api('/admin/dashboard/fleet'))
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return // no fleet: stays hidden
    }
    if (el.isConnected) setTimeout(load, REFRESH_MS)
  }
  function render(fleet) {
    el.hidden = false
    const rows = fleet.replicas.map((r) => {
      const notClosed = (r.breakers ?? []).filter((b) => b.state !== 'closed')
      return h('tr', { dataset: { replica: r.replica } },
        h('td', {}, r.replica, r.replica === fleet.replica ? h('span', { class: 'muted small' }, ' (this one)') : null),
        h('td', { class: 'num' }, fmt.int(r.inflight)),
        h('td', {}, notClosed.length ? notClosed.map((b) => `${b.target}: ${b.state}`).join(', ') : h('span', { class: 'status good' }, 'all closed')),
        h('td', { class: 'num' }, fmt.int(r.recent.requests)),
        h('td', { class: 'num' }, fmt.int(r.recent.errors)),
        h('td', { class: 'num' }, fmt.ms(r.recent.latency.p50)),
        h('td', { class: 'num' }, fmt.ms(r.recent.latency.p95)),
        h('td', { class: 'num' }, fmt.dateTime(r.at)))
    })
    replace(el,
      h('h3', {}, `Fleet: ${fleet.replicas.length} replica${fleet.replicas.length === 1 ? '' : 's'}, ${fmt.int(fleet.inflight)} in flight`),
      h('div', { class: 'table-wrap' }, h('table', { class: 'data compact', id: 'fleet-replicas' },
        h('thead', {}, h('tr', {}, ['Replica', 'In flight', 'Circuits', 'Requests (5 min)', 'Errors', 'p50', 'p95', 'Last heartbeat'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, rows))))
  }
  load()
  return el
}
