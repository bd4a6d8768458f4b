/**
 * Auth by a tenant header: each request names its tenant (`x-tenant: acme`), which must be on the allow-list.
 * The tenant becomes the principal, so its usage is recorded under its id and tags. A trusted proxy in front of
 * the gateway must set the header: on its own it proves nothing about the caller.
 */
import { GatewayError, definePlugin, parseOptions, z } from 'sluice'

const optionsSchema = z.strictObject({
  /** The request header that names the tenant. */
  header: z.string().min(1).default('x-tenant'),
  /** Allowed tenants, each with the tags its requests are recorded with: `{ acme: { team: 'search' } }`. */
  tenants: z.record(z.string().min(1), z.record(z.string(), z.string())),
})

export const tenantHeader = definePlugin((input: z.input<typeof optionsSchema>) => {
  const options = parseOptions('tenant-header', optionsSchema, input)
  const tenants = new Map(Object.entries(options.tenants))
  return {
    name: 'tenant-header',
    options,
    hooks: {
      // Runs on the headers alone, before the body is read: a refused caller costs no body parsing.
      auth(ctx) {
        const tenant = ctx.request.headers.get(options.header)?.trim()
        const tags = tenant ? tenants.get(tenant) : undefined
        // One message for a missing and an unknown tenant, without echoing the header back.
        if (!tenant || !tags) {
          throw new GatewayError(401, `Send a known tenant in the "${options.header}" header.`, { type: 'authentication_error', code: 'unknown_tenant' })
        }
        ctx.principal = { id: tenant, tags: { tenant, ...tags } }
      },
    },
  }
})
