/**
 * A small JSON Schema validator for the keywords structured-output schemas use (OpenAI's strict mode, Anthropic's
 * `output_config.format`, Gemini's `responseJsonSchema`): `type`, `properties`, `required`,
 * `additionalProperties`, `items`, `prefixItems`, `enum`, `const`, `anyOf`, `oneOf`, `allOf`, `$ref` into
 * `$defs` / `definitions`, and the numeric, length and count bounds. `pattern` and `format` are not enforced:
 * the schema comes from the client and the text from the model, and running a client's regex on the gateway is a
 * denial of service waiting to happen. Unknown keywords are ignored, as the specification says.
 *
 * Problems name the path by the schema's own property names and array indexes, never by the model's text.
 */

type Schema = Record<string, unknown>

const MAX_DEPTH = 64

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

function typeMatches(value: unknown, type: unknown): boolean {
  switch (type) {
    case 'null': return value === null
    case 'boolean': return typeof value === 'boolean'
    case 'string': return typeof value === 'string'
    case 'number': return typeof value === 'number' && Number.isFinite(value)
    case 'integer': return typeof value === 'number' && Number.isInteger(value)
    case 'array': return Array.isArray(value)
    case 'object': return isObject(value)
    default: return true // an unknown type name constrains nothing
  }
}

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((item, i) => equal(item, b[i]))
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a)
    return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && equal(a[key], b[key]))
  }
  return false
}

/** `#`, `#/$defs/name`, `#/definitions/name` and deeper JSON pointers within the root schema. */
function resolveRef(root: unknown, ref: string): unknown {
  if (!ref.startsWith('#')) return undefined
  let node: unknown = root
  for (const raw of ref.slice(1).split('/').slice(1)) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~')
    if (!isObject(node) && !Array.isArray(node)) return undefined
    node = (node as Record<string, unknown>)[key]
  }
  return node
}

const length = (text: string) => [...text].length

class Validator {
  constructor(private readonly root: unknown) {}

  check(value: unknown, schema: unknown, path: string, depth: number): string | undefined {
    if (schema === true || schema === undefined) return undefined
    if (schema === false) return `${path} is not allowed by the schema`
    if (!isObject(schema)) return undefined
    if (depth > MAX_DEPTH) return `${path} nests deeper than ${MAX_DEPTH} levels`
    if (typeof schema.$ref === 'string') {
      const target = resolveRef(this.root, schema.$ref)
      if (target === undefined) return `${path}: the schema's $ref cannot be resolved`
      const problem = this.check(value, target, path, depth + 1)
      if (problem) return problem
    }
    return this.#type(value, schema, path)
      ?? this.#choices(value, schema, path, depth)
      ?? this.#bounds(value, schema, path)
      ?? (Array.isArray(value) ? this.#array(value, schema, path, depth) : undefined)
      ?? (isObject(value) ? this.#object(value, schema, path, depth) : undefined)
  }

  #type(value: unknown, schema: Schema, path: string): string | undefined {
    if (schema.type === undefined) return undefined
    const types = Array.isArray(schema.type) ? schema.type : [schema.type]
    return types.some((type) => typeMatches(value, type)) ? undefined : `${path} must be ${types.join(' or ')}`
  }

  #choices(value: unknown, schema: Schema, path: string, depth: number): string | undefined {
    if (Array.isArray(schema.enum) && !schema.enum.some((option) => equal(option, value))) return `${path} must be one of the schema's enum values`
    if ('const' in schema && !equal(schema.const, value)) return `${path} must equal the schema's const value`
    const passes = (sub: unknown) => this.check(value, sub, path, depth + 1) === undefined
    if (Array.isArray(schema.anyOf) && !schema.anyOf.some(passes)) return `${path} matches none of the schema's anyOf`
    if (Array.isArray(schema.oneOf) && schema.oneOf.filter(passes).length !== 1) return `${path} must match exactly one of the schema's oneOf`
    if (Array.isArray(schema.allOf)) {
      for (const sub of schema.allOf) {
        const problem = this.check(value, sub, path, depth + 1)
        if (problem) return problem
      }
    }
    return undefined
  }

  #bounds(value: unknown, schema: Schema, path: string): string | undefined {
    const num = (key: string) => (typeof schema[key] === 'number' ? (schema[key] as number) : undefined)
    if (typeof value === 'string') {
      const min = num('minLength')
      const max = num('maxLength')
      if (min !== undefined && length(value) < min) return `${path} must be at least ${min} characters long`
      if (max !== undefined && length(value) > max) return `${path} must be at most ${max} characters long`
    }
    if (typeof value === 'number') {
      const min = num('minimum'); const max = num('maximum')
      const xmin = num('exclusiveMinimum'); const xmax = num('exclusiveMaximum'); const step = num('multipleOf')
      if (min !== undefined && value < min) return `${path} must be at least ${min}`
      if (max !== undefined && value > max) return `${path} must be at most ${max}`
      if (xmin !== undefined && value <= xmin) return `${path} must be more than ${xmin}`
      if (xmax !== undefined && value >= xmax) return `${path} must be less than ${xmax}`
      if (step !== undefined && step > 0 && Math.abs(value / step - Math.round(value / step)) > 1e-9) return `${path} must be a multiple of ${step}`
    }
    return undefined
  }

  #array(value: unknown[], schema: Schema, path: string, depth: number): string | undefined {
    const min = typeof schema.minItems === 'number' ? schema.minItems : undefined
    const max = typeof schema.maxItems === 'number' ? schema.maxItems : undefined
    if (min !== undefined && value.length < min) return `${path} must have at least ${min} items`
    if (max !== undefined && value.length > max) return `${path} must have at most ${max} items`
    const prefix = Array.isArray(schema.prefixItems) ? schema.prefixItems : []
    for (let i = 0; i < value.length; i++) {
      const sub = i < prefix.length ? prefix[i] : schema.items
      const problem = this.check(value[i], sub, `${path}[${i}]`, depth + 1)
      if (problem) return problem
    }
    return undefined
  }

  #object(value: Record<string, unknown>, schema: Schema, path: string, depth: number): string | undefined {
    const properties = isObject(schema.properties) ? schema.properties : {}
    if (Array.isArray(schema.required)) {
      for (const key of schema.required) {
        if (typeof key === 'string' && !Object.hasOwn(value, key)) return `${path} is missing the required property "${key}"`
      }
    }
    for (const [key, sub] of Object.entries(properties)) {
      if (!Object.hasOwn(value, key)) continue
      const problem = this.check(value[key], sub, `${path}.${key}`, depth + 1)
      if (problem) return problem
    }
    if (schema.additionalProperties === undefined || schema.additionalProperties === true) return undefined
    for (const key of Object.keys(value)) {
      if (Object.hasOwn(properties, key)) continue
      // The extra property's name is the model's text: it is not repeated.
      if (schema.additionalProperties === false) return `${path} has a property the schema does not allow`
      const problem = this.check(value[key], schema.additionalProperties, `${path}.<additional>`, depth + 1)
      if (problem) return problem
    }
    return undefined
  }
}

/** The first way `value` fails `schema` (a path and a reason), or undefined when it is valid. */
export function validateJson(value: unknown, schema: unknown): string | undefined {
  return new Validator(schema).check(value, schema, '$', 0)
}
