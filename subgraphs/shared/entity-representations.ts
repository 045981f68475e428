import { isInterfaceType, isObjectType, type GraphQLSchema } from 'graphql';
import { badUserInput } from './errors.js';

/**
 * Guards a subgraph's `_entities` resolver: every representation must be an
 * object whose `__typename` is a string naming an object or interface type
 * of the schema, or the request fails with BAD_USER_INPUT. @apollo/subgraph
 * throws a plain Error there (an internal error, logged as a resolver
 * failure) or a TypeError for `null`; a malformed representation is the
 * caller's mistake, not the subgraph's.
 */
export function guardEntityRepresentations(schema: GraphQLSchema): GraphQLSchema {
  const field = schema.getQueryType()?.getFields()._entities;
  const resolve = field?.resolve;
  if (!field || !resolve) return schema;
  field.resolve = (source, args, context, info) => {
    const representations: unknown = args.representations;
    if (!Array.isArray(representations)) throw badUserInput('Argument representations must be a list.', 'representations');
    for (let index = 0; index < representations.length; index++) {
      const representation = representations[index] as { __typename?: unknown } | null;
      const type =
        representation !== null &&
        typeof representation === 'object' &&
        !Array.isArray(representation) &&
        typeof representation.__typename === 'string'
          ? schema.getType(representation.__typename)
          : undefined;
      if (!type || !(isObjectType(type) || isInterfaceType(type))) {
        throw badUserInput(`representations[${index}] must be an object whose __typename names an entity type of this subgraph.`, 'representations');
      }
    }
    return resolve(source, args, context, info);
  };
  return schema;
}
