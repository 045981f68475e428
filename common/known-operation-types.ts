import { GraphQLError, type ASTVisitor, type ValidationContext } from 'graphql';

/**
 * A validation rule: an operation whose type the schema does not define
 * (`mutation` or `subscription` where there is no such root type) is a
 * validation error, GRAPHQL_VALIDATION_FAILED, as graphql-js 17 makes it
 * (`KnownOperationTypesRule`). graphql-js 16 lets such a document through
 * validation and fails it only when it runs; everything between validation
 * and execution (scope enforcement, planning) may assume a root type.
 */
export function knownOperationTypesRule(context: ValidationContext): ASTVisitor {
  return {
    OperationDefinition(node) {
      if (context.getSchema().getRootType(node.operation)) return;
      context.reportError(new GraphQLError(`The schema does not support ${node.operation} operations.`, { nodes: node }));
    },
  };
}
