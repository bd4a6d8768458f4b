// DOM and formatting helpers. Elements are built with h(), never from HTML strings, so data is always text.

/** h('div', { class: 'x', onclick }, child, ...): attributes starting with "on" become listeners. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value)
    else if (name === 'dataset') Object.assign(el.dataset, value)
    else if (value === true) el.setAttribute(name, '')
    else el.setAttribute(name, String(value))
  }
  append(el, children)
  return el
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue
    el.append(child instanceof Node ? child : String(child))
  }
}

export function replace(el, ...children) {
  el.replaceChildren()
  append(el, children)
  return el
}

export function notice(kind, ...children) {
  return h('div', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, ...children)
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 })

export const fmt = {
  int: (n) => (typeof n === 'number' ? integer.format(n) : '–'),
  compact(n) {
    if (typeof n !== 'number') return '–'
    if (Math.abs(n) >= 10_000) return compact.format(n)
    return Number.isInteger(n) || Math.abs(n) >= 100 ? integer.format(n) : n.toFixed(1)
  },
  usd(n) {
    if (typeof n !== 'number') return '–'
    if (n === 0) return '$0'
    if (Math.abs(n) < 0.01) return `$${n.toPrecision(2)}`
    return `$${n.toFixed(2)}`
  },
  ms: (n) => (typeof n === 'number' ? (n >= 10_000 ? `${(n / 1000).toFixed(1)} s` : `${integer.format(n)} ms`) : '–'),
  pct: (n) => (typeof n === 'number' && Number.isFinite(n) ? `${(n * 100).toFixed(n > 0 && n < 0.01 ? 2 : 1)}%` : '–'),
  time: (ms) => new Date(ms).toLocaleTimeString([], { hour12: false }),
  dateTime: (value) => (value ? new Date(value).toLocaleString([], { hour12: false }) : '–'),
}

/** A yyyy-mm-dd string for <input type=date>, in local time. */
export function dateInput(ms) {
  const d = new Date(ms)
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`
}
