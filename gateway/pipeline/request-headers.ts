import type { IncomingMessage } from 'node:http';

/** A request header's value (the first, when it was sent more than once). */
export function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * HTTP header values are bytes, not Unicode: a case number such as
 * 藏人社〔2026〕88号 travels percent-encoded (UTF-8) and is decoded here. A
 * malformed encoding is kept as is, and then fails the header's own check.
 */
export function decodedHeader(request: IncomingMessage, name: string): string | undefined {
  const value = header(request, name);
  if (value === undefined || !value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
