/**
 * The spill file of a `BatchWriter`: an append-only JSONL file of records the store could not take in time. Appends and the
 * set-aside rename are serialised per path; a replay first renames the file aside (`<file>.replay-<n>`), so new spills go
 * to a fresh file while the old one is read back in bounded chunks.
 */
import { appendFileSync, closeSync, mkdirSync, openSync, unlinkSync, writeSync } from 'node:fs'
import { appendFile, mkdir, open, readdir, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

/** One spilled line: the record and the boot that spilled it (so this process knows its own records). */
export interface SpillLine<T = unknown> {
  b: string
  r: T
}

export function spillLine(record: unknown, boot: string): string {
  return JSON.stringify({ b: boot, r: record }) + '\n'
}

function lines(records: readonly unknown[], boot: string): string {
  let text = ''
  for (const record of records) text += spillLine(record, boot)
  return text
}

// Appends and renames of one path are serialised process-wide, so an append can never land in a file that a
// replay (of this or another recorder, e.g. across a hot reload) has already set aside and read.
const fileLocks = new Map<string, Promise<void>>()

function withFileLock<T>(file: string, task: () => Promise<T>): Promise<T> {
  const previous = fileLocks.get(file) ?? Promise.resolve()
  const run = previous.then(task)
  const settled = run.then(() => {}, () => {})
  fileLocks.set(file, settled)
  void settled.then(() => {
    if (fileLocks.get(file) === settled) fileLocks.delete(file)
  })
  return run
}

export function appendSpill(file: string, records: readonly unknown[], boot: string): Promise<void> {
  const text = lines(records, boot)
  return withFileLock(file, async () => {
    await mkdir(dirname(file), { recursive: true })
    await appendFile(file, text)
  })
}

/** Last resort after shutdown, when no async work will be awaited any more. */
export function appendSpillSync(file: string, records: readonly unknown[], boot: string): void {
  mkdirSync(dirname(file), { recursive: true })
  appendFileSync(file, lines(records, boot))
}

/** Moves the live spill file aside for replay; false when there is none. */
export function setAsideSpill(file: string, suffix: string): Promise<boolean> {
  return withFileLock(file, async () => {
    try {
      await rename(file, `${file}.replay-${suffix}`)
      return true
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
      throw error
    }
  })
}

/** Spill files set aside for replay (also those a previous run left behind), oldest first. */
export async function replayFiles(file: string): Promise<string[]> {
  const prefix = `${basename(file)}.replay-`
  try {
    const names = await readdir(dirname(file))
    return names.filter((name) => name.startsWith(prefix)).sort().map((name) => join(dirname(file), name))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
}

export async function removeFile(file: string): Promise<void> {
  await unlink(file).catch((error) => {
    if (error.code !== 'ENOENT') throw error
  })
}

/** Reads a file line by line in 64 KiB chunks: memory stays bounded whatever the file size. */
export async function* readLines(file: string): AsyncGenerator<string> {
  const handle = await open(file, 'r')
  try {
    const buffer = Buffer.alloc(64 * 1024)
    const decoder = new TextDecoder()
    let rest = ''
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null)
      if (bytesRead === 0) break
      rest += decoder.decode(buffer.subarray(0, bytesRead), { stream: true })
      let start = 0
      for (let newline = rest.indexOf('\n'); newline >= 0; newline = rest.indexOf('\n', start)) {
        const line = rest.slice(start, newline)
        start = newline + 1
        if (line) yield line
      }
      rest = rest.slice(start)
    }
    rest += decoder.decode()
    if (rest) yield rest
  } finally {
    await handle.close()
  }
}

/**
 * The write-ahead journal of a `BatchWriter`: every accepted record appended (no fsync) before it waits in memory,
 * so a process killed outright (`kill -9`) leaves its unwritten records on disk for the next start. The records
 * appended in one synchronous run (the pipeline finishes a loop turn's records together) go out in one write at
 * its end, before any I/O callback can run. Lines are spill lines; a segment is deleted once every record in it is
 * stored or spilled. A segment another boot left behind is moved into the replay set (`<file>.replay-…`) at start.
 */
export class Journal {
  #fd: number | undefined
  #path = ''
  #lines = 0
  #seq = 0
  #pending = ''
  readonly #sealed: string[] = []

  /** `onWrite` hears of each write: `undefined` when it succeeded, the error when the file could not be written. */
  constructor(readonly spillFile: string, readonly boot: string, readonly onWrite: (error?: unknown) => void = () => {}) {}

  /** Appends one record (written with the others of this synchronous run, in a microtask). */
  append(record: unknown): void {
    if (!this.#pending) queueMicrotask(this.#flush)
    this.#pending += spillLine(record, this.boot)
    this.#lines++
  }

  #flush = (): void => {
    const text = this.#pending
    if (!text) return
    this.#pending = ''
    try {
      if (this.#fd === undefined) {
        mkdirSync(dirname(this.spillFile), { recursive: true })
        this.#path = `${this.spillFile}.journal-${this.boot}-${++this.#seq}`
        this.#fd = openSync(this.#path, 'a')
      }
      writeSync(this.#fd, text)
    } catch (error) {
      this.onWrite(error)
      return
    }
    this.onWrite()
  }

  /** Closes the current segment: everything in it was accepted before now. */
  seal(): void {
    this.#flush()
    this.#lines = 0
    if (this.#fd === undefined) return
    closeSync(this.#fd)
    this.#fd = undefined
    this.#sealed.push(this.#path)
  }

  /** Deletes sealed segments (call once every record accepted before the seal is stored or spilled). */
  dropSealed(): void {
    for (const path of this.#sealed.splice(0)) {
      try {
        unlinkSync(path)
      } catch {}
    }
  }

  /** Records were appended since the last seal. */
  get open(): boolean {
    return this.#lines > 0
  }

  /** Moves journal segments that other boots left behind (a killed process) into the replay set; how many. */
  static async adoptLeftovers(spillFile: string, boot: string, suffix: string): Promise<number> {
    const prefix = `${basename(spillFile)}.journal-`
    let names: string[]
    try {
      names = await readdir(dirname(spillFile))
    } catch {
      return 0
    }
    let adopted = 0
    for (const name of names) {
      if (!name.startsWith(prefix) || name.startsWith(`${prefix}${boot}-`)) continue
      await rename(join(dirname(spillFile), name), `${spillFile}.replay-${suffix}-${name.slice(prefix.length)}`).then(() => adopted++, () => {})
    }
    return adopted
  }
}
