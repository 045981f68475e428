import { describe, expect, it } from 'vitest';
import { APPLICATION_JSON, GRAPHQL_RESPONSE_JSON, graphQLResponseType, mediaTypeOf, preferredMediaType } from '../../common/http/media-types.js';

describe('content negotiation (common/http/media-types)', () => {
  describe('the GraphQL response type an Accept header prefers', () => {
    it.each<[string | undefined, string | null]>([
      [undefined, APPLICATION_JSON],
      ['', APPLICATION_JSON],
      ['*/*', APPLICATION_JSON],
      ['application/*', APPLICATION_JSON],
      ['application/json', APPLICATION_JSON],
      [GRAPHQL_RESPONSE_JSON, GRAPHQL_RESPONSE_JSON],
      // Apollo Client 4, urql, graphql-request
      ['application/graphql-response+json,application/json;q=0.9', GRAPHQL_RESPONSE_JSON],
      ['application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed', GRAPHQL_RESPONSE_JSON],
      ['application/graphql-response+json, application/json', GRAPHQL_RESPONSE_JSON],
      // the client's order breaks a tie of weight and specificity; weight comes first
      ['application/json, application/graphql-response+json', APPLICATION_JSON],
      ['application/json;q=0.5, application/graphql-response+json;q=0.8', GRAPHQL_RESPONSE_JSON],
      // an exact range beats a wildcard at the same weight
      ['*/*, application/graphql-response+json', GRAPHQL_RESPONSE_JSON],
      ['APPLICATION/GRAPHQL-RESPONSE+JSON; charset=utf-8', GRAPHQL_RESPONSE_JSON],
      // the most specific range gives a type its weight, also to refuse it
      ['*/*, application/json;q=0', GRAPHQL_RESPONSE_JSON],
      ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', APPLICATION_JSON],
      ['text/html', null],
      ['application/json;q=0, application/graphql-response+json;q=0', null],
      ['application/json;q=nonsense', null],
      ['*/json, garbage', null],
    ])('%j → %s', (accept, type) => {
      expect(graphQLResponseType(accept)).toBe(type);
    });
  });

  it('finds HTML preferred by a browser, never by a client that takes anything', () => {
    const offered = [APPLICATION_JSON, GRAPHQL_RESPONSE_JSON, 'text/html'];
    expect(preferredMediaType('text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8', offered)).toBe('text/html');
    expect(preferredMediaType('*/*', offered)).toBe(APPLICATION_JSON);
    expect(preferredMediaType(undefined, offered)).toBe(APPLICATION_JSON);
  });

  it('reads the media type of a Content-Type without its parameters', () => {
    expect(mediaTypeOf('Application/JSON; charset=utf-8')).toBe('application/json');
    expect(mediaTypeOf(' text/plain ')).toBe('text/plain');
  });
});
