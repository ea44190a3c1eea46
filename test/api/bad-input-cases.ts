/**
 * Bad requests generated from the OpenAPI document (/docs/json), so a route added later is covered without
 * naming it here. Each case says whether the route must refuse it (strict: a 4xx) or may also answer 2xx
 * (lenient: a value the schema allows, e.g. a filter on an unknown device), in which case the caller checks
 * that nothing changed.
 */

export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  items?: JsonSchema;
  minProperties?: number;
  default?: unknown;
}

export interface Operation {
  parameters?: Array<{ in: 'path' | 'query' | 'header'; name: string; required?: boolean; schema: JsonSchema }>;
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
}

export interface BadCase {
  name: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string;
  /** true: must be a 4xx. false: a 4xx, or a 2xx that changed nothing. */
  strict: boolean;
}

export interface CaseContext {
  /** An id of a stored thing for a path parameter (the seeded session, device, model), or undefined. */
  existingId(path: string, param: string): string | undefined;
  /** More than any body limit of the hub under test. */
  oversizedBytes: number;
  headers: Record<string, string>;
}

/** Ids that exist nowhere, tried in order until one fits the parameter's schema (ULIDs start 0-7). */
const UNKNOWN_IDS = ['no-such-id', '01ARZ3NDEKTSV4RRFFQ69G5FAV', 'nosuchid', 'zz'];
const WRONG_SCALAR = { wrong: 'type' };
const WRONG_CONTAINER = 'not-an-object-or-array';
const BODY_METHODS = new Set(['POST', 'PATCH', 'PUT']);

export function operations(doc: { paths: Record<string, Record<string, Operation>> }): Array<{ method: string; path: string; op: Operation }> {
  return Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ method: method.toUpperCase(), path, op })));
}

function unknownString(schema: JsonSchema): string | undefined {
  return UNKNOWN_IDS.find((id) => fits(schema, id));
}

function fits(raw: JsonSchema, value: string): boolean {
  const schema = normalise(raw);
  return (schema.pattern === undefined || new RegExp(schema.pattern).test(value))
    && value.length >= (schema.minLength ?? 0) && value.length <= (schema.maxLength ?? Infinity)
    && (schema.enum === undefined || schema.enum.includes(value));
}

/** The smallest value the schema accepts (required properties only, first alternative of a union). */
function minimalValid(raw: JsonSchema): unknown {
  const schema = normalise(raw);
  if (schema.default !== undefined) return schema.default;
  if (schema.enum) return schema.enum[0];
  switch (schema.type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const properties = Object.entries(schema.properties ?? {});
      for (const [name, inner] of properties) if (schema.required?.includes(name)) out[name] = minimalValid(inner);
      for (const [name, inner] of properties) {
        if (Object.keys(out).length >= (schema.minProperties ?? 0)) break;
        out[name] ??= minimalValid(inner);
      }
      return out;
    }
    case 'array': return Array.from({ length: schema.minItems ?? 0 }, () => minimalValid(schema.items ?? {}));
    case 'string': {
      const value = unknownString(schema);
      if (value === undefined) throw new Error(`no valid string for ${JSON.stringify(schema)}: add one to UNKNOWN_IDS`);
      return value;
    }
    case 'number':
    case 'integer': return schema.minimum ?? 0;
    case 'boolean': return false;
    case 'null': return null;
    default: return {};
  }
}

/** Values of the wrong type, or of the right type outside the schema's bounds. Never coercible (ajv coerces scalars). */
function wrongValues(raw: JsonSchema): Array<{ what: string; value: unknown }> {
  const schema = normalise(raw);
  const out: Array<{ what: string; value: unknown }> = [];
  const container = schema.type === 'object' || schema.type === 'array';
  out.push({ what: 'wrong type', value: container ? WRONG_CONTAINER : WRONG_SCALAR });
  if (schema.type === 'string' || (schema.enum && schema.enum.every((e) => typeof e === 'string'))) {
    if (!fits(schema, 'bad value!')) out.push({ what: 'pattern/enum violated', value: 'bad value!' });
    if (schema.maxLength !== undefined) out.push({ what: 'too long', value: 'x'.repeat(schema.maxLength + 1) });
  }
  if (schema.type === 'number' || schema.type === 'integer') {
    out.push({ what: 'not a number', value: 'abc' });
    if (schema.minimum !== undefined) out.push({ what: 'below minimum', value: schema.minimum - 1 });
    if (schema.maximum !== undefined) out.push({ what: 'above maximum', value: schema.maximum + 1 });
    if (schema.type === 'integer') out.push({ what: 'not an integer', value: (schema.minimum ?? 0) + 0.5 });
  }
  if (schema.type === 'boolean') out.push({ what: 'not a boolean', value: 'maybe' });
  return out;
}

/** Query strings carry text: the same mistakes, as text. */
function wrongQueryValues(schema: JsonSchema): Array<{ what: string; value: string }> {
  return wrongValues(schema)
    .filter((w) => typeof w.value !== 'object')
    .map((w) => ({ what: w.what, value: String(w.value) }));
}

/** A union of string literals as one enum; any other union as its first alternative (its shape, for a body). */
function normalise(schema: JsonSchema): JsonSchema {
  if (!schema.anyOf) return schema;
  if (schema.anyOf.every((s) => s.type === 'string' && s.enum)) return { type: 'string', enum: schema.anyOf.flatMap((s) => s.enum!) };
  return schema.anyOf.find((s) => s.type !== 'null') ?? schema.anyOf[0];
}

function url(path: string, pathValues: Record<string, string>, query: Record<string, string>): string {
  const filled = path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(pathValues[name]));
  const search = new URLSearchParams(query).toString();
  return search ? `${filled}?${search}` : filled;
}

export function badCases(method: string, path: string, op: Operation, ctx: CaseContext): BadCase[] {
  const params = op.parameters ?? [];
  const pathParams = params.filter((p) => p.in === 'path');
  const queryParams = params.filter((p) => p.in === 'query');
  const bodySchema = op.requestBody?.content?.['application/json']?.schema;
  const takesBody = BODY_METHODS.has(method);

  const unknownPath: Record<string, string> = {};
  const existingPath: Record<string, string> = {};
  for (const p of pathParams) {
    const unknown = unknownString(p.schema);
    if (unknown === undefined) throw new Error(`${method} ${path}: no unknown id fits {${p.name}}: add one to UNKNOWN_IDS`);
    unknownPath[p.name] = unknown;
    existingPath[p.name] = ctx.existingId(path, p.name) ?? unknown;
  }
  const requiredQuery: Record<string, string> = {};
  for (const p of queryParams) if (p.required) requiredQuery[p.name] = String(minimalValid(p.schema));
  const validBody = bodySchema ? minimalValid(bodySchema) as Record<string, unknown> : undefined;
  const json = { ...ctx.headers, 'content-type': 'application/json' };
  const cases: BadCase[] = [];
  const add = (name: string, strict: boolean, at: Record<string, string>, query: Record<string, string>, payload?: string, headers = json) =>
    cases.push({ name, method, url: url(path, at, { ...requiredQuery, ...query }), headers: payload === undefined ? ctx.headers : headers, payload, strict });
  const validPayload = validBody === undefined ? undefined : JSON.stringify(validBody);

  for (const p of pathParams) {
    for (const wrong of wrongValues(p.schema).filter((w) => typeof w.value === 'string')) {
      add(`path {${p.name}} ${wrong.what}`, true, { ...existingPath, [p.name]: String(wrong.value) }, {}, validPayload);
    }
  }
  if (pathParams.length > 0) add('unknown id in the path', true, unknownPath, {}, validPayload);

  for (const p of queryParams) {
    for (const wrong of wrongQueryValues(p.schema)) add(`query ${p.name} ${wrong.what}`, true, existingPath, { [p.name]: wrong.value }, validPayload);
    const schema = normalise(p.schema);
    if (schema.type === 'string' && !schema.enum) {
      // Allowed by the schema, so the route may answer 2xx (an empty list), or refuse it (a bad cursor).
      const value = schema.pattern ? unknownString(schema) : 'bad value!';
      if (value !== undefined) add(`query ${p.name} ${schema.pattern ? 'an unknown id' : 'an arbitrary string'}`, false, unknownPath, { [p.name]: value }, validPayload);
    }
  }

  if (!takesBody) return cases;
  // A route without a body schema ignores a body it does not parse itself: bodies that parse go to unknown ids.
  const junkAt = bodySchema ? existingPath : unknownPath;
  if (bodySchema && validBody) {
    const shape = normalise(bodySchema);
    for (const name of shape.required ?? []) {
      const { [name]: _missing, ...rest } = validBody;
      add(`body missing ${name}`, true, existingPath, {}, JSON.stringify(rest));
    }
    for (const [name, inner] of Object.entries(shape.properties ?? {})) {
      for (const wrong of wrongValues(inner)) add(`body ${name} ${wrong.what}`, true, existingPath, {}, JSON.stringify({ ...validBody, [name]: wrong.value }));
    }
  }
  for (const [what, payload] of [['an array', '[]'], ['a string', '"text"'], ['a number', '42']] as const) add(`body is ${what}`, bodySchema !== undefined, junkAt, {}, payload);
  add('body empty', bodySchema !== undefined, junkAt, {}, '');
  add('body is malformed JSON', true, existingPath, {}, '{"a": [1, 2');
  add('body is text/plain', bodySchema !== undefined, junkAt, {}, 'hello', { ...ctx.headers, 'content-type': 'text/plain' });
  add('body of an unknown media type', true, existingPath, {}, '<x/>', { ...ctx.headers, 'content-type': 'application/xml' });
  add('body over the size limit', true, existingPath, {}, JSON.stringify({ pad: 'x'.repeat(ctx.oversizedBytes) }));
  return cases;
}
