import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify';
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import type { TSchema } from 'typebox';

const INTEGER_TEXT = /^-?\d+$/;
const NUMBER_TEXT = /^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

/**
 * TypeBox's validator, but query strings and path parameters must spell numbers as numbers. TypeBox's
 * conversion reads `limit=1.5` as 1, `from=` as 0 and `0x10` as 16: a client's mistake would pass silently.
 */
export const apiValidatorCompiler: FastifySchemaCompiler<TSchema> = (route) => {
  const validate = TypeBoxValidatorCompiler(route);
  if (route.httpPart !== 'querystring' && route.httpPart !== 'params') return validate;
  const numeric = Object.entries((route.schema as { properties?: Record<string, { type?: unknown }> }).properties ?? {})
    .filter(([, schema]) => schema.type === 'integer' || schema.type === 'number')
    .map(([name, schema]) => ({ name, integer: schema.type === 'integer' }));
  if (numeric.length === 0) return validate;
  return (value: unknown) => {
    const input = value as Record<string, unknown> | undefined;
    for (const { name, integer } of numeric) {
      const text = input?.[name];
      if (typeof text !== 'string' || (integer ? INTEGER_TEXT : NUMBER_TEXT).test(text)) continue;
      const error: FastifySchemaValidationError = {
        keyword: 'type',
        instancePath: `/${name}`,
        schemaPath: `#/properties/${name}/type`,
        params: { type: integer ? 'integer' : 'number' },
        message: `must be ${integer ? 'an integer' : 'a number'} written in decimal`,
      };
      return { error: [error] };
    }
    return validate(value);
  };
};
