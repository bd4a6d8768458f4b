// Plugins written as a user would write them, in their own config.
import { defineGatewayConfig, definePlugin, GatewayError, sseEvent, type RequestRecord } from 'sluice'
import { echo } from 'sluice/plugins/providers'

const records: RequestRecord[] = ((globalThis as any).__sluiceTestRecords ??= [])
const order: string[] = ((globalThis as any).__sluiceTestOrder ??= [])

export const tenantHeader = definePlugin((opts: { header: string }) => ({
  name: 'tenant-header',
  hooks: {
    auth(ctx) {
      order.push('tenant-header:auth')
      const tenant = ctx.request.headers.get(opts.header)
      if (!tenant) throw new GatewayError(400, `${opts.header} is required`)
      ctx.principal = { id: tenant, name: `tenant ${tenant}` }
    },
    record(record) {
      records.push(record)
    },
  },
}))

// Uppercases streamed text when asked to; shows a per-event transform.
const shouter = definePlugin(() => ({
  name: 'shouter',
  hooks: {
    stream(ctx) {
      if (!ctx.request.headers.get('x-shout')) return
      return (event) => {
        const json = event.json
        const content = json?.choices?.[0]?.delta?.content
        if (!content) return event
        json.choices[0].delta.content = content.toUpperCase()
        return sseEvent(JSON.stringify(json))
      }
    },
  },
}))

// Registered last in the config but ordered first: answers by itself when asked to.
const gatekeeper = definePlugin(() => ({
  name: 'gatekeeper',
  enforce: 'pre',
  hooks: {
    auth(ctx) {
      order.push('gatekeeper:auth')
      if (ctx.request.headers.get('x-teapot')) ctx.response = new Response('short and stout', { status: 418 })
    },
  },
}))

const faultyRecorder = definePlugin(() => ({
  name: 'faulty-recorder',
  hooks: {
    record() {
      throw new Error('recorder is broken')
    },
  },
}))

export default defineGatewayConfig({
  server: { port: 0 },
  storage: { driver: 'memory' },
  plugins: [echo(), echo({ name: 'slow', delayMs: 5 }), faultyRecorder(), tenantHeader({ header: 'x-tenant' }), shouter(), gatekeeper()],
})
