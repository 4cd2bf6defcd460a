/**
 * A small validator for the subset of JSON Schema (draft 2020-12) that docs/alert.schema.json uses: type, const,
 * enum, required, properties, additionalProperties, items, oneOf, minimum and local $ref (`#/$defs/name`).
 * A keyword outside the subset is an error, so the schema cannot silently rely on something this does not check.
 */
export type Schema = { readonly [keyword: string]: unknown } | boolean;

const ANNOTATIONS = new Set(['$schema', '$id', '$defs', '$comment', 'title', 'description']);
const CHECKED = new Set(['$ref', 'type', 'const', 'enum', 'required', 'properties', 'additionalProperties', 'items', 'oneOf', 'minimum']);

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(want: string, v: unknown): boolean {
  const t = typeOf(v);
  return want === t || (want === 'number' && t === 'integer');
}

function equal(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function resolve(root: Schema, ref: string): Schema {
  const m = /^#\/\$defs\/([A-Za-z0-9_-]+)$/.exec(ref);
  const defs = typeof root === 'object' ? (root['$defs'] as Record<string, Schema> | undefined) : undefined;
  const target = m ? defs?.[m[1]!] : undefined;
  if (target === undefined) throw new Error(`unsupported or unknown $ref ${ref}`);
  return target;
}

/** Every violation of `schema` by `value`, as `path: problem` lines; empty when it validates. */
export function validate(schema: Schema, value: unknown, root: Schema = schema, path = '$'): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${path}: not allowed`];
  for (const k of Object.keys(schema)) if (!ANNOTATIONS.has(k) && !CHECKED.has(k)) throw new Error(`unsupported keyword ${k} at ${path}`);
  const errors: string[] = [];
  if (typeof schema['$ref'] === 'string') errors.push(...validate(resolve(root, schema['$ref']), value, root, path));
  if (schema['type'] !== undefined) {
    const types = Array.isArray(schema['type']) ? (schema['type'] as string[]) : [schema['type'] as string];
    if (!types.some((t) => typeMatches(t, value))) return [...errors, `${path}: expected ${types.join(' or ')}, got ${typeOf(value)}`];
  }
  if ('const' in schema && !equal(schema['const'], value)) errors.push(`${path}: expected ${JSON.stringify(schema['const'])}`);
  if (Array.isArray(schema['enum']) && !schema['enum'].some((e) => equal(e, value))) {
    errors.push(`${path}: expected one of ${schema['enum'].map((e) => JSON.stringify(e)).join(', ')}, got ${JSON.stringify(value)}`);
  }
  if (typeof schema['minimum'] === 'number' && typeof value === 'number' && value < schema['minimum']) {
    errors.push(`${path}: below the minimum ${schema['minimum']}`);
  }
  if (typeOf(value) === 'object') {
    const obj = value as Record<string, unknown>;
    for (const k of (schema['required'] as string[] | undefined) ?? []) if (!(k in obj)) errors.push(`${path}: missing ${k}`);
    const props = (schema['properties'] as Record<string, Schema> | undefined) ?? {};
    for (const [k, v] of Object.entries(obj)) {
      const sub = props[k];
      if (sub !== undefined) errors.push(...validate(sub, v, root, `${path}.${k}`));
      else if (schema['additionalProperties'] !== undefined) errors.push(...validate(schema['additionalProperties'] as Schema, v, root, `${path}.${k}`).map((e) => (schema['additionalProperties'] === false ? `${path}: unknown property ${k}` : e)));
    }
  }
  if (Array.isArray(value) && schema['items'] !== undefined) {
    value.forEach((v, i) => errors.push(...validate(schema['items'] as Schema, v, root, `${path}[${i}]`)));
  }
  if (Array.isArray(schema['oneOf'])) {
    const passing = (schema['oneOf'] as Schema[]).filter((s) => validate(s, value, root, path).length === 0).length;
    if (passing !== 1) errors.push(`${path}: matches ${passing} of the oneOf alternatives, expected exactly 1`);
  }
  return errors;
}
