#!/usr/bin/env node
// Runs the TypeScript CLI with jiti: no build step.
import { createJiti } from 'jiti'

const jiti = createJiti(import.meta.url)
const { main } = await jiti.import('../core/cli.ts')
await main()
