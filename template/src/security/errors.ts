/**
 * Practice 7: errors that tell the client what it needs and nothing more.
 *
 * Every failure becomes an ErrorReply here, whichever framework raised it. Only AppError
 * messages are written for clients; a library's own message, stack or file path never is.
 *
 * Node's HTTP server also answers some requests on its own, bare (no JSON, no header policy,
 * no request id). createHttpServer hands each one it can to the application instead: an
 * HTTP/1.1 request without Host (400), an Expect other than 100-continue (417), a
 * 100-continue whose declared body is over the limit (413, before the body is invited); the
 * first middleware or hook refuses them with protocolRefusal. Requests its parser refuses
 * before there is a request at all (a header block too large, both Transfer-Encoding and
 * Content-Length, a malformed request line, a timeout) and CONNECT are answered on the socket
 * by answerClientError and answerConnect, with the same JSON and the same header policy.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type RequestListener, type Server, type ServerOptions } from 'node:http';
import type { Duplex } from 'node:stream';
import type { SecurityEvent } from './events.ts';
import { SECURITY_HEADERS } from './headers.ts';

export interface ErrorBody {
  error: string;
  details?: unknown;
}

export interface ErrorReply {
  status: number;
  body: ErrorBody;
  headers: Record<string, string>;
  /** True when nothing anticipated this error: log it in full, answer generically. */
  unexpected: boolean;
  /** The security event to record with the request's context, if this refusal is one. */
  event?: SecurityEvent;
}

export class AppError extends Error {
  readonly status: number;
  readonly details: unknown;
  readonly headers: Record<string, string>;
  /** The security event this refusal is, recorded once by the error reply (src/security/events.ts). */
  readonly event: SecurityEvent | undefined;

  constructor(status: number, message: string, options: { details?: unknown; headers?: Record<string, string>; event?: SecurityEvent } = {}) {
    // An AppError is an answer, not a fault: no one reads its stack, so none is captured.
    const { stackTraceLimit } = Error;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = stackTraceLimit;
    this.name = 'AppError';
    this.status = status;
    this.details = options.details;
    this.headers = options.headers ?? {};
    this.event = options.event;
  }
}

const CLIENT_ERROR_MESSAGES: ReadonlyMap<number, string> = new Map([
  [400, 'Bad request'],
  [401, 'Unauthorized'],
  [403, 'Forbidden'],
  [404, 'Not found'],
  [405, 'Method not allowed'],
  [408, 'Request timeout'],
  [411, 'Length required'],
  [413, 'Request body too large'],
  [414, 'URI too long'],
  [415, 'Unsupported media type'],
  [417, 'Expectation failed'],
  [429, 'Too many requests, try again later.'],
  [431, 'Request header fields too large'],
]);

/** Error codes from body parsers that mean "the JSON itself is broken". */
const MALFORMED_JSON_CODES = new Set(['entity.parse.failed', 'FST_ERR_CTP_INVALID_JSON_BODY', 'FST_ERR_CTP_EMPTY_JSON_BODY']);

export const INTERNAL_ERROR_MESSAGE = 'Internal server error';

function clientStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { status, statusCode } = error as { status?: unknown; statusCode?: unknown };
  const candidate = typeof status === 'number' ? status : statusCode;
  return typeof candidate === 'number' && Number.isInteger(candidate) && candidate >= 400 && candidate < 500
    ? candidate
    : undefined;
}

export function toErrorReply(error: unknown): ErrorReply {
  if (error instanceof AppError) {
    const body: ErrorBody = { error: error.message };
    if (error.details !== undefined) body.details = error.details;
    // An AppError is a deliberate answer (a 503 while Redis is down included): not a surprise to log.
    return { status: error.status, body, headers: error.headers, unexpected: false, ...(error.event ? { event: error.event } : {}) };
  }
  const status = clientStatusOf(error);
  if (status !== undefined) {
    const { type, code } = error as { type?: unknown; code?: unknown };
    const malformed =
      status === 400 && (error instanceof SyntaxError || MALFORMED_JSON_CODES.has(String(type)) || MALFORMED_JSON_CODES.has(String(code)));
    const message = malformed ? 'Malformed JSON body' : (CLIENT_ERROR_MESSAGES.get(status) ?? 'Bad request');
    return { status, body: { error: message }, headers: {}, unexpected: false };
  }
  return { status: 500, body: { error: INTERNAL_ERROR_MESSAGE }, headers: {}, unexpected: true };
}

export const notFoundError = (): AppError => new AppError(404, 'Not found');
/** RFC 9110: a known path asked with a method it does not serve is a 405 that lists the ones it does. */
export const methodNotAllowedError = (allowed: readonly string[]): AppError =>
  new AppError(405, 'Method not allowed', { headers: { Allow: allowed.join(', ') } });

/** Node's parser error codes that are not a plain 400. */
const CLIENT_ERROR_STATUSES: ReadonlyMap<string, readonly [number, string]> = new Map([
  ['HPE_HEADER_OVERFLOW', [431, 'Request Header Fields Too Large']],
  ['ERR_HTTP_REQUEST_TIMEOUT', [408, 'Request Timeout']],
  ['ERR_HTTP_REQUEST_ENTITY_TOO_LARGE', [413, 'Payload Too Large']],
]);
const BAD_REQUEST = [400, 'Bad Request'] as const;
const POLICY_HEADER_LINES = Object.entries(SECURITY_HEADERS)
  .map(([name, value]) => `${name}: ${value}\r\n`)
  .join('');

/** An answer written straight to a socket that has no request object to answer through, then closed. */
function answerOnSocket(socket: Duplex, [status, reason]: readonly [number, string]): void {
  const body = JSON.stringify({ error: CLIENT_ERROR_MESSAGES.get(status) ?? 'Bad request' });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\n` +
      `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `Connection: close\r\nX-Request-Id: ${randomUUID()}\r\n${POLICY_HEADER_LINES}\r\n${body}`,
  );
}

/**
 * The answer to a request the HTTP parser refused (the server's 'clientError'): written straight
 * to the socket, because there is no request for a framework to answer, and then closed.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  // A client that is already gone gets nothing.
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  answerOnSocket(socket, CLIENT_ERROR_STATUSES.get(error.code ?? '') ?? BAD_REQUEST);
}

/**
 * CONNECT asks the server to be a tunnel, which an API never is. Node hands it over as a raw
 * socket (the 'connect' event) or, with no listener, drops the connection without a word.
 */
export function answerConnect(_request: unknown, socket: Duplex): void {
  if (socket.writable) answerOnSocket(socket, BAD_REQUEST);
  else socket.destroy();
}

/** What Node's HTTP server counts as `Expect: 100-continue` (lib/_http_server.js); any other expectation is unmet. */
const CONTINUE_EXPECTATION = /(?:^|\W)100-continue(?:$|\W)/i;

/** A refusal that also ends the connection: what follows on it cannot be trusted to be a request. */
const closingRefusal = (status: number, message: string): AppError => new AppError(status, message, { headers: { Connection: 'close' } });

/**
 * The refusals Node would otherwise write itself, bare, for the first middleware or hook to
 * throw: an HTTP/1.1 request without Host (RFC 9112 section 3.2 requires 400), an expectation
 * the server cannot meet (417, RFC 9110 section 10.1.1), and a 100-continue whose declared body
 * is over the limit (413, answered before the client is invited to send it).
 */
export function protocolRefusal(request: { httpVersion: string; headers: IncomingHttpHeaders }, bodyLimitBytes: number): AppError | undefined {
  const { host, expect } = request.headers;
  if (host === undefined && request.httpVersion === '1.1') return closingRefusal(400, 'Host header required');
  if (expect === undefined) return undefined;
  if (!CONTINUE_EXPECTATION.test(expect)) return closingRefusal(417, 'Expectation failed: only 100-continue is supported');
  if (Number(request.headers['content-length']) > bodyLimitBytes) return closingRefusal(413, 'Request body too large');
  return undefined;
}

/**
 * The node:http server both frameworks run on, with Node's own answers handed to the
 * application (see the top of this file), and requests that arrive while it shuts down served
 * with `Connection: close`, so that their clients take their next request elsewhere.
 */
export function createHttpServer(options: ServerOptions, handle: RequestListener, bodyLimitBytes: number): Server {
  const server = createServer({ ...options, requireHostHeader: false });
  const listener: RequestListener = (request, response) => {
    // A server that no longer listens is shutting down: finish this request, keep no connection.
    if (!server.listening) response.setHeader('Connection', 'close');
    handle(request, response);
  };
  server.on('request', listener);
  // Node answers an unknown expectation with a bare 417 unless this listener takes it.
  server.on('checkExpectation', listener);
  // Node would send 100 Continue at once, inviting a body the application then refuses.
  server.on('checkContinue', (request, response) => {
    if (!protocolRefusal(request, bodyLimitBytes)) response.writeContinue();
    listener(request, response);
  });
  server.on('connect', answerConnect);
  return server;
}
