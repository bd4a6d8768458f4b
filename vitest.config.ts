import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    env: { NODE_ENV: 'test' },
    // Suites against real Redis/Postgres use their own key prefixes and schemas, so files may run in parallel.
    fileParallelism: true,
  },
})
