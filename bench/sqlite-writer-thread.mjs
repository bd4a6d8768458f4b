// Worker side of bench/sqlite-thread.ts: owns one SQLite connection, inserts each posted batch of row values.
import { parentPort, workerData } from 'node:worker_threads'
import Database from 'better-sqlite3'

const db = new Database(workerData.file)
db.pragma('journal_mode = WAL')
db.pragma('synchronous = NORMAL')
const statement = db.prepare(workerData.insert)
const insertMany = db.transaction((rows) => { for (const row of rows) statement.run(row) })
parentPort.on('message', (rows) => {
  insertMany(rows)
  parentPort.postMessage(rows.length)
})
