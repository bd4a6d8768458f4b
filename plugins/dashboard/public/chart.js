// A small SVG time-series chart: lines (the first one filled), y grid with labels, three time labels, and a
// native tooltip per bucket. Redrawn at the container's width, so it stays crisp at any size.
import { h } from './dom.js'

const SVG = 'http://www.w3.org/2000/svg'

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag)
  for (const [name, value] of Object.entries(attrs)) if (value !== undefined) el.setAttribute(name, String(value))
  el.append(...children)
  return el
}

function niceMax(value) {
  if (!(value > 0)) return 1
  const power = 10 ** Math.floor(Math.log10(value))
  for (const step of [1, 2, 2.5, 5, 10]) if (value <= step * power) return step * power
  return 10 * power
}

function timeLabel(ms, bucketMs, spanMs) {
  const d = new Date(ms)
  const hm = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false })
  return spanMs > 86_400_000 ? `${d.toLocaleDateString([], { weekday: 'short' })} ${hm}` : hm
}

/**
 * @param {{ title: string, times: number[], bucketMs: number, series: Array<{ label: string, values: Array<number|undefined>, kind?: string }>, format: (n:number)=>string }} spec
 */
export function chart(spec) {
  const figure = h('figure', { class: 'chart' },
    h('figcaption', {}, h('span', { class: 'chart-title' }, spec.title),
      h('span', { class: 'legend' }, spec.series.map((line, i) => h('span', { class: `key key-${i}` }, line.label)))),
  )
  const plot = h('div', { class: 'chart-plot' })
  figure.append(plot)
  const draw = () => plot.replaceChildren(svgFor(spec, Math.max(240, plot.clientWidth || 480)))
  new ResizeObserver(() => draw()).observe(plot)
  draw()
  return figure
}

function svgFor({ times, bucketMs, series, format }, width) {
  const height = 150
  const pad = { left: 52, right: 8, top: 10, bottom: 22 }
  const innerW = width - pad.left - pad.right
  const innerH = height - pad.top - pad.bottom
  const n = times.length
  const max = niceMax(Math.max(0, ...series.flatMap((line) => line.values.filter((v) => typeof v === 'number'))))
  const x = (i) => pad.left + (n <= 1 ? innerW / 2 : (i / (n - 1)) * innerW)
  const y = (v) => pad.top + innerH - (v / max) * innerH
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', class: 'chart-svg' })

  for (const fraction of [0, 0.5, 1]) {
    const value = max * fraction
    svg.append(
      s('line', { x1: pad.left, x2: width - pad.right, y1: y(value), y2: y(value), class: 'grid' }),
      s('text', { x: pad.left - 6, y: y(value) + 4, 'text-anchor': 'end', class: 'axis' }, format(value)),
    )
  }
  const span = n * bucketMs
  for (const i of n > 2 ? [0, Math.floor((n - 1) / 2), n - 1] : [0, n - 1]) {
    if (i < 0 || times[i] === undefined) continue
    const anchor = i === 0 ? 'start' : i === n - 1 ? 'end' : 'middle'
    svg.append(s('text', { x: x(i), y: height - 6, 'text-anchor': anchor, class: 'axis' }, timeLabel(times[i], bucketMs, span)))
  }

  series.forEach((line, index) => {
    const points = line.values.map((v, i) => (typeof v === 'number' ? [x(i), y(v)] : null))
    let d = ''
    let pen = false
    for (const point of points) {
      if (!point) { pen = false; continue }
      d += `${pen ? 'L' : 'M'}${point[0].toFixed(1)},${point[1].toFixed(1)}`
      pen = true
    }
    if (!d) return
    if (index === 0 && !line.values.some((v) => v === undefined)) {
      svg.append(s('path', { d: `${d}L${x(n - 1).toFixed(1)},${y(0)}L${x(0).toFixed(1)},${y(0)}Z`, class: `area area-${index}` }))
    }
    svg.append(s('path', { d, class: `line line-${index}` }))
    // A value with no neighbour draws no line segment: mark it with a dot.
    points.forEach((point, i) => {
      if (point && !points[i - 1] && !points[i + 1]) svg.append(s('circle', { cx: point[0].toFixed(1), cy: point[1].toFixed(1), r: 2.5, class: `dot dot-${index}` }))
    })
  })

  // One transparent column per bucket with a native tooltip.
  const column = n > 0 ? innerW / Math.max(1, n - 1) : innerW
  times.forEach((t, i) => {
    const text = `${new Date(t).toLocaleString([], { hour12: false })}\n${series.map((line) => `${line.label}: ${typeof line.values[i] === 'number' ? format(line.values[i]) : '–'}`).join('\n')}`
    svg.append(s('rect', { x: x(i) - column / 2, y: pad.top, width: column, height: innerH, class: 'hover' }, s('title', {}, text)))
  })
  return svg
}
