/**
 * CPU per request of the SigV4 signature bedrock() puts on every call (the AWS SDK's @smithy/signature-v4 over
 * node:crypto hashes, with its signing-key cache), against a baseline measured in the same run: the same canonical
 * request, string to sign and HMAC chain written out with node:crypto's synchronous hashes. aws4fetch (over
 * WebCrypto), which bedrock() used first, is measured beside them. A 2 KB Converse body, the gateway's usual signing key
 * cache (one key per day, region and service).
 *
 *   node --import jiti/register bench/sigv4.ts
 *
 * Each case runs in batches; the median CPU µs per signature is printed, with its ratio to the baseline.
 */
import { createHash, createHmac } from 'node:crypto'
import { AwsV4Signer } from 'aws4fetch'
import { SignatureV4 } from '@smithy/signature-v4'
import { Hash } from '@smithy/hash-node'
import { HttpRequest } from '@smithy/protocol-http'

const BATCHES = 9
const PER_BATCH = 2_000
const URL_ = 'https://bedrock-runtime.us-east-1.amazonaws.com/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse'
const BODY = JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'Summarise: '.padEnd(2_000, 'x') }] }], inferenceConfig: { maxTokens: 256 } })
const CREDS = { accessKeyId: 'AKIABENCHMARK0000000', secretAccessKey: 'bench/secret/key/0000000000000000000000', sessionToken: 'bench-session-token' }
const cache = new Map<string, ArrayBuffer>()

async function aws4fetch(): Promise<void> {
  await new AwsV4Signer({ method: 'POST', url: URL_, headers: { 'content-type': 'application/json' }, body: BODY, ...CREDS, service: 'bedrock', region: 'us-east-1', cache }).sign()
}

const smithySigner = new SignatureV4({ service: 'bedrock', region: 'us-east-1', credentials: CREDS, sha256: Hash.bind(null, 'sha256') })
const parsed = new URL(URL_)

async function smithy(): Promise<void> {
  await smithySigner.sign(new HttpRequest({ method: 'POST', protocol: 'https:', hostname: parsed.hostname, path: parsed.pathname, headers: { 'content-type': 'application/json', host: parsed.host }, body: BODY }))
}

const sha = (data: string) => createHash('sha256').update(data).digest('hex')
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest()
let signingKey: { day: string; key: Buffer } | undefined

async function nodeCrypto(): Promise<void> {
  const date = new Date().toISOString().replace(/[:-]|\.\d{3}/g, '')
  const day = date.slice(0, 8)
  const url = new URL(URL_)
  const path = encodeURIComponent(url.pathname).replace(/%2F/g, '/')
  const headers = `host:${url.host}\nx-amz-date:${date}\nx-amz-security-token:${CREDS.sessionToken}\n`
  const canonical = ['POST', path, '', headers, 'host;x-amz-date;x-amz-security-token', sha(BODY)].join('\n')
  const toSign = ['AWS4-HMAC-SHA256', date, `${day}/us-east-1/bedrock/aws4_request`, sha(canonical)].join('\n')
  if (signingKey?.day !== day) signingKey = { day, key: hmac(hmac(hmac(hmac(`AWS4${CREDS.secretAccessKey}`, day), 'us-east-1'), 'bedrock'), 'aws4_request') }
  hmac(signingKey.key, toSign).toString('hex')
}

async function medianCpuMicros(fn: () => Promise<void>): Promise<number> {
  for (let i = 0; i < PER_BATCH; i++) await fn()
  const samples: number[] = []
  for (let b = 0; b < BATCHES; b++) {
    const start = process.cpuUsage()
    for (let i = 0; i < PER_BATCH; i++) await fn()
    const used = process.cpuUsage(start)
    samples.push((used.user + used.system) / PER_BATCH)
  }
  return samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)]!
}

const baseline = await medianCpuMicros(nodeCrypto)
const used = await medianCpuMicros(smithy)
const signer = await medianCpuMicros(aws4fetch)
console.log(`SigV4, 2 KB body, median CPU per signature over ${BATCHES} batches of ${PER_BATCH}:`)
console.log(`  node:crypto (baseline)   ${baseline.toFixed(1)} µs`)
console.log(`  @smithy (bedrock())      ${used.toFixed(1)} µs   ×${(used / baseline).toFixed(1)}`)
console.log(`  aws4fetch (WebCrypto)    ${signer.toFixed(1)} µs   ×${(signer / baseline).toFixed(1)}`)
