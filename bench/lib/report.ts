/** Printing helpers: aligned rows and ratios that say what they compare. */

export const fixed = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '-')
export const ratio = (a: number, b: number | undefined) => (b && Number.isFinite(a) && Number.isFinite(b) ? `${(a / b).toFixed(2)}×` : '-')

export function table(header: string[], rows: Array<Array<string | number>>): void {
  const cells = [header, ...rows.map((row) => row.map(String))]
  const widths = header.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)))
  for (const row of cells) console.log(row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd())
}

export interface Goal {
  name: string
  met: boolean | undefined
  detail: string
}

export function printGoals(goals: Goal[]): void {
  for (const goal of goals) console.log(`${goal.met === undefined ? 'n/a ' : goal.met ? 'MET ' : 'MISS'}  ${goal.name.padEnd(48)} ${goal.detail}`)
}
