// A provider plugin written from docs/plugins.md: it waits for work that never ends and gives it up when the client
// leaves (`ctx.onClientGone`), then asks again to see that a late registration fires at once. What it saw goes to
// `globalThis.__clientGone` (the test shares the process).
import { defineGatewayConfig, definePlugin } from 'sluice'

type Seen = { id: string; afterwards: boolean }
const seen: Seen[] = ((globalThis as { __clientGone?: Seen[] }).__clientGone ??= [])

const patient = definePlugin(() => ({
  name: 'patient',
  setup(gw) {
    gw.registerProvider({
      name: 'patient',
      formats: ['openai-chat'],
      async call({ ctx }) {
        await new Promise<void>((resolve) => { ctx.onClientGone(resolve) })
        let afterwards = false
        ctx.onClientGone(() => { afterwards = true })
        seen.push({ id: ctx.id, afterwards })
        throw new Error('the client left')
      },
    })
  },
}))

export default defineGatewayConfig({
  server: { port: 0 },
  storage: { driver: 'memory' },
  plugins: [patient()],
})
