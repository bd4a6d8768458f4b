// Targets: each upstream target's circuit (breaker plugin) and its last five minutes of traffic on this process.
import { fmt, h, notice, replace } from '../dom.js'

const REFRESH_MS = 3000

export function mount(root, { api }) {
  const banner = h('div', { class: 'banners' })
  const list = h('div', { class: 'table-wrap', id: 'targets-list' })
  replace(root, h('div', { class: 'view-head' }, h('h2', {}, 'Targets'), h('button', { type: 'button', class: 'ghost', onclick: () => load() }, 'Refresh')), banner, list)

  let timer
  let seq = 0
  async function load() {
    clearTimeout(timer)
    const mine = ++seq
    try {
      const data = await api('/admin/dashboard/targets')
      if (mine !== seq) return
      replace(banner, data.breaker ? null : notice('info', 'No breaker plugin: circuit states are not tracked. Add breaker() to the config to see them.'))
      render(data)
    } catch (error) {
      if (mine !== seq || error.status === 401) return
      replace(banner, notice('error', `Could not load targets: ${error.message}`))
    } finally {
      if (mine === seq) timer = setTimeout(load, REFRESH_MS)
    }
  }

  function render({ targets, windowMinutes }) {
    if (targets.length === 0) return replace(list, notice('info', 'No target has been called yet.'))
    replace(list, h('table', { class: 'data', id: 'targets-table' },
      h('thead', {}, h('tr', {}, ['Target', 'Circuit', 'Window failures', `Requests (${windowMinutes} min)`, 'Error rate', 'p50', 'p95', 'TTFB p50'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, targets.map((t) => h('tr', { dataset: { target: t.target } },
        h('td', { class: 'mono' }, t.target),
        h('td', {}, t.state ? h('span', { class: `status ${t.state === 'closed' ? 'good' : t.state === 'open' ? 'bad' : 'warn'}` }, t.state) : h('span', { class: 'muted' }, '–')),
        h('td', { class: 'num' }, t.state ? `${fmt.int(t.failures)} / ${fmt.int(t.requests)}` : '–'),
        h('td', { class: 'num' }, fmt.int(t.recent?.requests ?? 0)),
        h('td', { class: 'num' }, t.recent?.requests ? fmt.pct(t.recent.errorRate) : '–'),
        h('td', { class: 'num' }, fmt.ms(t.recent?.p50)),
        h('td', { class: 'num' }, fmt.ms(t.recent?.p95)),
        h('td', { class: 'num' }, fmt.ms(t.recent?.ttfbP50)))))))
  }

  load()
  return () => {
    seq++
    clearTimeout(timer)
  }
}
