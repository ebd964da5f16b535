/**
 * Live responses checked against the OpenAPI document the service serves, with ajv (JSON Schema
 * 2020-12, the dialect of OpenAPI 3.1): the status must be documented for the operation, every
 * documented header that is required must be there and every documented header that is there
 * must match its schema, the content type must be documented, and the body must match its
 * schema. Objects are read as closed: a member the service sends that the document does not
 * name is a mismatch (the document allows more only where it says so, with
 * `additionalProperties`).
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// ajv-formats is a CommonJS bundle: what a default import yields differs between type checker and run time.
type AddFormats = typeof addFormatsModule.default;
const addFormats: AddFormats = (addFormatsModule as unknown as { default?: AddFormats }).default ?? (addFormatsModule as unknown as AddFormats);

/** "METHOD /path/{param}" as in the document, without the /api/v1 base. */
export type OperationKey = string;

/** A live answer as it came over the wire. */
export interface LiveResponse {
  status: number;
  headers: Headers;
  text: string;
}

// The document is plain JSON, read loosely.
type Json = any;

const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const defs_id = 'https://wijkmunt.test/openapi-components.json';

function isObjectSchema(schema: Json): boolean {
  const type = schema.type;
  return type === 'object' || (Array.isArray(type) && type.includes('object')) || schema.properties !== undefined;
}

/** The types a schema allows, as a set (undefined: any). */
function typesOf(schema: Json): Set<string> | undefined {
  if (schema.type === undefined) return undefined;
  return new Set(Array.isArray(schema.type) ? schema.type : [schema.type]);
}

/**
 * A schema as the contract reads it: `$ref`s point into the components added to ajv, every
 * object without a word on extra members is closed (`unevaluatedProperties: false`), and an
 * `allOf` of objects (a component extended in place, or made nullable that way) is merged into
 * one object first, since closing each part would refuse the other parts' members.
 */
function closed(schema: Json, components: Record<string, Json>): Json {
  if (schema === null || typeof schema !== 'object') return schema;
  if (Array.isArray(schema)) return schema.map((s) => closed(s, components));
  if (typeof schema.$ref === 'string') {
    return { ...schema, $ref: schema.$ref.replace('#/components/schemas/', `${defs_id}#/$defs/`) };
  }
  if (Array.isArray(schema.allOf)) {
    const parts: Json[] = schema.allOf.map((part: Json) => (typeof part.$ref === 'string'
      ? components[part.$ref.split('/').at(-1)] : part));
    if (parts.every((part) => part !== undefined && isObjectSchema(part))) {
      let types: Set<string> | undefined;
      for (const part of parts) {
        const own = typesOf(part);
        if (own !== undefined) types = types === undefined ? own : new Set([...types].filter((t) => own.has(t)));
      }
      const { allOf: _parts, ...rest } = schema;
      const merged: Json = {
        ...rest,
        ...(types === undefined ? {} : { type: types.size === 1 ? [...types][0] : [...types] }),
        properties: Object.assign({}, ...parts.map((part) => part.properties ?? {})),
        required: [...new Set(parts.flatMap((part) => part.required ?? []))],
      };
      return closed(merged, components);
    }
  }
  const out: Json = {};
  for (const [keyword, value] of Object.entries<Json>(schema)) {
    if (keyword === 'properties' || keyword === '$defs' || keyword === 'patternProperties') {
      out[keyword] = Object.fromEntries(Object.entries<Json>(value).map(([name, s]) => [name, closed(s, components)]));
    } else if (['items', 'additionalProperties', 'unevaluatedProperties', 'not', 'propertyNames', 'contains'].includes(keyword)) {
      out[keyword] = closed(value, components);
    } else if (['anyOf', 'oneOf', 'allOf', 'prefixItems'].includes(keyword)) {
      out[keyword] = value.map((s: Json) => closed(s, components));
    } else {
      out[keyword] = value;
    }
  }
  if (isObjectSchema(out) && out.additionalProperties === undefined && out.unevaluatedProperties === undefined
    && out.patternProperties === undefined) {
    out.unevaluatedProperties = false;
  }
  return out;
}

function mediaTypeOf(headers: Headers): string {
  return (headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** A header's value as its schema reads it (headers are text; an integer header is a number). */
function headerValue(value: string, schema: Json): unknown {
  return (schema?.type === 'integer' || schema?.type === 'number') && /^-?[0-9]+(\.[0-9]+)?$/.test(value) ? Number(value) : value;
}

export interface Contract {
  /** Every operation of the document, in its order. */
  operations: OperationKey[];
  /** The statuses the document gives an operation. */
  statuses(key: OperationKey): number[];
  /** The operation object itself. */
  operation(key: OperationKey): Json;
  /** What in `response` the document does not allow, in words; empty when it matches. */
  mismatches(key: OperationKey, response: LiveResponse): string[];
}

/** The contract of an OpenAPI 3.1 document. */
export function contractOf(document: Json): Contract {
  const components: Record<string, Json> = document.components?.schemas ?? {};
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  addFormats(ajv);
  ajv.addVocabulary(['example']);
  ajv.addSchema({ $id: defs_id, $defs: Object.fromEntries(Object.entries(components).map(([name, s]) => [name, closed(s, components)])) });
  const compiled = new Map<string, ValidateFunction>();
  const validator = (cache_key: string, schema: Json): ValidateFunction => {
    let validate = compiled.get(cache_key);
    if (validate === undefined) {
      validate = ajv.compile(closed(schema, components));
      compiled.set(cache_key, validate);
    }
    return validate;
  };
  const errorsOf = (validate: ValidateFunction) => ajv.errorsText(validate.errors, { separator: '; ' });

  const operations: OperationKey[] = [];
  for (const [path, item] of Object.entries<Json>(document.paths ?? {})) {
    for (const method of methods) if (item[method] !== undefined) operations.push(`${method.toUpperCase()} ${path}`);
  }
  const operation = (key: OperationKey): Json => {
    const [method = '', path = ''] = key.split(' ');
    const found = document.paths?.[path]?.[method.toLowerCase()];
    if (found === undefined) throw new Error(`no operation ${key} in the document`);
    return found;
  };
  const resolve = (object: Json): Json => {
    if (typeof object?.$ref !== 'string') return object;
    const [, section, name] = /^#\/components\/([^/]+)\/(.+)$/.exec(object.$ref) ?? [];
    return document.components?.[section ?? '']?.[name ?? ''];
  };

  return {
    operations,
    operation,
    statuses: (key) => Object.keys(operation(key).responses ?? {}).map(Number),
    mismatches: (key, response) => {
      const documented = resolve(operation(key).responses?.[String(response.status)]);
      if (documented === undefined) return [`status ${response.status} is not documented for ${key}`];
      const out: string[] = [];
      for (const [name, header_ref] of Object.entries<Json>(documented.headers ?? {})) {
        const header = resolve(header_ref);
        const value = response.headers.get(name);
        if (value === null) {
          if (header.required === true) out.push(`header ${name} is documented as required but missing`);
          continue;
        }
        const validate = validator(`${key} ${response.status} header ${name}`, header.schema ?? {});
        if (!validate(headerValue(value, header.schema))) out.push(`header ${name}: ${value}: ${errorsOf(validate)}`);
      }
      const media_type = mediaTypeOf(response.headers);
      if (documented.content === undefined) {
        if (response.text !== '') out.push(`a body (${media_type}) where the document says none`);
        return out;
      }
      const content = documented.content[media_type];
      if (content === undefined) {
        out.push(`content type "${media_type}" is not one of ${Object.keys(documented.content).join(', ')}`);
        return out;
      }
      let body: unknown = response.text;
      if (/[/+]json$/.test(media_type)) {
        try {
          body = JSON.parse(response.text);
        } catch {
          out.push(`the body is not JSON: ${response.text.slice(0, 200)}`);
          return out;
        }
      }
      const validate = validator(`${key} ${response.status} ${media_type}`, content.schema ?? {});
      if (!validate(body)) out.push(`body: ${errorsOf(validate)}: ${response.text.slice(0, 500)}`);
      return out;
    },
  };
}
