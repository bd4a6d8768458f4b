/**
 * Router aliases with globs and a default route, through a real (in-process) gateway: an exact alias wins, then
 * the most specific glob (most literal characters; config order on a tie), then `*`; a target model `*` is the
 * requested name; `provider/model` addresses stay direct; /v1/models lists exact aliases only; a glob that can
 * never match is a config error.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createTestGateway, scriptedProvider, type TestGateway } from '../../testing/index.ts'
import { router } from '../../plugins/index.ts'
import { createConsola } from 'consola'
import { createStorage } from 'unstorage'
import { ConfigError, createGateway } from '../../core/index.ts'

let gateway: TestGateway | undefined
afterEach(async () => {
  await gateway?.close()
  gateway = undefined
})

const providers = (...names: string[]) => names.map((name) => scriptedProvider({ name, replies: [{ text: `from ${name}` }] }))

async function start(models: Parameters<typeof router>[0]['models'], names = ['anthropic', 'a', 'b', 'c', 'd', 'or']) {
  const upstreams = providers(...names)
  gateway = await createTestGateway({ plugins: [...upstreams, router({ models })] })
  return gateway
}

/** Where a chat request for `model` went (provider/model, from the response headers), or its status when it failed. */
async function servedBy(model: string): Promise<string> {
  const response = await gateway!.chat({ model, messages: [{ role: 'user', content: 'hi' }] })
  if (response.status !== 200) return String(response.status)
  return `${response.headers.get('x-sluice-provider')}/${response.headers.get('x-sluice-model')}`
}

describe('glob aliases', () => {
  it("a target model '*' is the requested name: claude-* → anthropic/<the name asked for>", async () => {
    await start({ 'claude-*': ['anthropic/*'] })
    expect(await servedBy('claude-sonnet-5')).toBe('anthropic/claude-sonnet-5')
    expect(await servedBy('claude-opus-4-8')).toBe('anthropic/claude-opus-4-8')
    expect(await servedBy('gpt-4o')).toBe('404') // nothing matches, no default route
    const [record] = await gateway!.waitForRecords(1)
    expect(record).toMatchObject({ requestedModel: 'claude-sonnet-5', provider: 'anthropic', upstreamModel: 'claude-sonnet-5' })
  })

  it('exact beats the most specific glob, which beats a less specific one, which beats *', async () => {
    await start({
      '*': ['d/default'],
      'claude-*': ['a/*'],
      'claude-3-5-haiku-*': ['c/haiku'],
      'claude-sonnet-5': ['b/exact'],
    })
    expect(await servedBy('claude-sonnet-5')).toBe('b/exact')
    expect(await servedBy('claude-3-5-haiku-latest')).toBe('c/haiku')
    expect(await servedBy('claude-opus-9')).toBe('a/claude-opus-9')
    expect(await servedBy('gpt-5-codex')).toBe('d/default')
  })

  it('a tie in specificity goes to the glob listed first', async () => {
    await start({ '*-haiku-*': ['c/*'], 'claude-*': ['a/*'] }) // 7 literal characters each
    expect(await servedBy('claude-3-haiku-2024')).toBe('c/claude-3-haiku-2024')
    expect(await servedBy('claude-3-opus')).toBe('a/claude-3-opus')
  })

  it("the default route does not take a registered provider's provider/model, but takes any other name", async () => {
    await start({ '*': ['or/*'] })
    expect(await servedBy('a/direct-model')).toBe('a/direct-model')
    expect(await servedBy('meta-llama/llama-3-70b')).toBe('or/meta-llama/llama-3-70b')
    expect(await servedBy('mystery')).toBe('or/mystery')
  })

  it('strategies and fallback work per request on * targets', async () => {
    const flaky = scriptedProvider({ name: 'flaky', replies: [{ error: { status: 503 } }] })
    const steady = scriptedProvider({ name: 'steady' })
    gateway = await createTestGateway({ plugins: [flaky, steady, router({ models: { 'claude-*': ['flaky/*', 'steady/*'] } })] })
    expect(await servedBy('claude-x')).toBe('steady/claude-x')
    expect(flaky.calls[0]!.target.model).toBe('claude-x')
    expect(flaky.calls[0]!.body.model).toBe('claude-x')
  })

  it('a glob whose targets have no registered provider answers 404 naming the model and the glob', async () => {
    await start({ 'ghost-*': ['ghost/*'] }, ['a'])
    const response = await gateway!.chat({ model: 'ghost-1', messages: [{ role: 'user', content: 'hi' }] })
    expect(response.status).toBe(404)
    expect((await response.json()).error).toMatchObject({ code: 'model_not_found', message: 'The model "ghost-1" (matched by "ghost-*") has no available provider' })
  })

  it('/v1/models lists exact aliases only', async () => {
    await start({ fast: ['a/small'], 'claude-*': ['anthropic/*'], '*': ['b/*'] }, ['a', 'b', 'anthropic'])
    const ids: string[] = (await (await gateway!.fetch(`${gateway!.url}/v1/models`)).json()).data.map((model: { id: string }) => model.id)
    expect(ids).toContain('fast')
    expect(ids.filter((id) => id.includes('*'))).toEqual([])
  })
})

describe('config validation', () => {
  const rejects = (models: Parameters<typeof router>[0]['models'], message: RegExp) => {
    let thrown: unknown
    try { router({ models }) } catch (error) { thrown = error }
    expect(ConfigError.is(thrown), 'expected a ConfigError').toBe(true)
    expect((thrown as Error).message).toMatch(message)
  }

  it('refuses a glob that can never match a model name', () => {
    rejects({ 'claude *': ['a/*'] }, /models\.claude \*.*can never match.*characters a model name cannot have/)
    rejects({ '*/': ['a/x'] }, /can never match.*empty path segment/)
    rejects({ 'x/../*': ['a/x'] }, /can never match.*"\.\." path segment/)
    rejects({ '**': ['a/x'] }, /write "\*" once/)
  })

  it('keeps target models literal, or "*" alone', () => {
    rejects({ 'claude-*': ['anthropic/claude-*'] }, /target "anthropic\/claude-\*": a target model is literal, or "\*" alone/)
  })

  it('warns about a glob that starts with a registered provider (those names stay direct)', async () => {
    const lines: string[] = []
    const logger = createConsola({ level: 5, reporters: [{ log: (entry) => void lines.push(entry.args.join(' ')) }] })
    const direct = await createGateway({ plugins: [...providers('openai'), router({ models: { 'openai/*': ['b/*'], 'gpt-*': ['openai/*'] } })] }, { storage: createStorage(), logger })
    await direct.close()
    expect(lines.filter((line) => line.includes('never applies'))).toEqual([
      'router: glob "openai/*" never applies: "openai/…" names the registered provider "openai", which is addressed directly',
    ])
  })

  it('accepts globs that can match', () => {
    expect(() => router({ models: { '*': 'a/*', 'claude-*': ['a/*'], '*-haiku-*': 'a/x', 'openai/*': 'a/*', '.*': 'a/x' } })).not.toThrow()
  })
})
