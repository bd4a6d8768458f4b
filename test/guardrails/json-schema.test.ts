/** The JSON Schema subset structured outputs use, and the `json-schema` rule's verdict on a reply's text. */
import { describe, expect, it } from 'vitest'
import { validateJson } from '../../plugins/guardrails/json-schema.ts'
import { jsonProblem } from '../../plugins/guardrails/json-output.ts'

const person = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1 },
    age: { type: 'integer', minimum: 0 },
    role: { enum: ['admin', 'user'] },
    tags: { type: 'array', items: { type: 'string' }, maxItems: 2 },
    manager: { anyOf: [{ $ref: '#/$defs/ref' }, { type: 'null' }] },
  },
  required: ['name', 'age'],
  additionalProperties: false,
  $defs: { ref: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'], additionalProperties: false } },
}

describe('validateJson', () => {
  it('accepts what the schema allows', () => {
    expect(validateJson({ name: 'Ada', age: 36, role: 'admin', tags: ['x'], manager: { id: 'm1' } }, person)).toBeUndefined()
    expect(validateJson({ name: 'Ada', age: 36, manager: null }, person)).toBeUndefined()
  })

  it.each([
    [{ age: 3 }, '$ is missing the required property "name"'],
    [{ name: 'Ada', age: 3.5 }, '$.age must be integer'],
    [{ name: 'Ada', age: -1 }, '$.age must be at least 0'],
    [{ name: '', age: 1 }, '$.name must be at least 1 characters long'],
    [{ name: 'Ada', age: 1, role: 'root' }, "$.role must be one of the schema's enum values"],
    [{ name: 'Ada', age: 1, tags: ['a', 2] }, '$.tags[1] must be string'],
    [{ name: 'Ada', age: 1, tags: ['a', 'b', 'c'] }, '$.tags must have at most 2 items'],
    [{ name: 'Ada', age: 1, manager: { id: 7 } }, "$.manager matches none of the schema's anyOf"],
    [[1], '$ must be object'],
  ])('refuses %j: %s', (value, problem) => {
    expect(validateJson(value, person)).toBe(problem)
  })

  it('never names a property the model made up (it may be anything, a secret too)', () => {
    const problem = validateJson({ name: 'Ada', age: 1, 'sk-proj-abcdefghijklmnop': true }, person)
    expect(problem).toBe('$ has a property the schema does not allow')
  })

  it('follows recursive $refs, and stops at a depth no honest schema reaches', () => {
    const tree = { $ref: '#/definitions/node', definitions: { node: { type: 'object', properties: { children: { type: 'array', items: { $ref: '#/definitions/node' } } } } } }
    expect(validateJson({ children: [{ children: [] }] }, tree)).toBeUndefined()
    expect(validateJson({ children: [{ children: 'no' }] }, tree)).toBe('$.children[0].children must be array')
    let deep: any = { children: [] }
    for (let i = 0; i < 100; i++) deep = { children: [deep] }
    expect(validateJson(deep, tree)).toMatch(/nests deeper than 64 levels/)
  })

  it('does not run the client\'s regexes (pattern) on the gateway', () => {
    expect(validateJson('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!', { type: 'string', pattern: '^(a+)+$' })).toBeUndefined()
  })
})

describe('jsonProblem', () => {
  const schema = { type: 'json_schema' as const, schema: person }
  it('wants JSON that parses, an object for json_object, a match for json_schema', () => {
    expect(jsonProblem('{"name":"Ada","age":36}', schema, 1000)).toBeUndefined()
    expect(jsonProblem('```json\n{"name":"Ada","age":36}\n```', schema, 1000)).toBe('the output is not valid JSON')
    expect(jsonProblem('[1,2]', { type: 'json_object' }, 1000)).toBe('the output is not a JSON object')
    expect(jsonProblem('{"name":"Ada"}', schema, 1000)).toBe('$ is missing the required property "age"')
    expect(jsonProblem('{"name":"Ada","age":36}', schema, 10)).toMatch(/longer than 10 characters/)
  })
})
