/**
 * The floor on Express 5, for bench/floor.py: the bare baseline (bench/bare/express.ts) plus only
 * what no hardened design can leave out of these requests, each done the cheapest way there is:
 *
 * - the response headers every answer carries (the security headers of src/security/headers.ts,
 *   X-Request-Id from randomUUID, Vary: Origin, and the two RateLimit headers), written with the
 *   head in one writeHead() call, as the hardened app does;
 * - a count per client IP: a fixed window in a Map, synchronous (cheaper than any limiter library);
 * - on a request with a token, one session lookup in the store (the account exists and its
 *   session is not revoked: what makes a logged-out session's token invalid at once);
 * - PATCH changes the item only if it is the caller's.
 *
 * Left out, so that the floor is lower than any real design: verifying the token's signature
 * (the caller is fixed at start, as in the bare server), validation, the injection guard, CORS,
 * error mapping, metrics. The same contract as the bare server otherwise.
 */
import { randomUUID } from 'node:crypto';
import express, { type Response } from 'express';
import { openDatabase } from '../src/db/index.ts';
import type { Item } from '../src/items/repository.ts';
import { SECURITY_HEADERS } from '../src/security/headers.ts';
import type { User } from '../src/users/repository.ts';

const store = await openDatabase(process.env.DATABASE_URL ?? '', { migrateOnStart: true });
const seeded = await store.users.create({ email: 'floor@example.test', name: 'Floor', age: 30, passwordHash: null, createdBy: null });
const OWN_ITEMS = { anyOwner: false, ownerId: seeded.id } as const;
const SESSION_FAMILY = randomUUID();
const publicUser = (user: User) => ({ id: user.id, email: user.email, name: user.name, age: user.age });
const publicItem = (item: Item) => ({ id: item.id, title: item.title, done: item.done, ownerId: item.ownerId, createdAt: item.createdAt.toISOString() });

const WINDOW_MS = 60_000;
const LIMIT = 10_000_000;
const counts = new Map<string, { start: number; count: number }>();

const app = express();
app.disable('x-powered-by');
app.set('etag', false);
app.use((req, res, next) => {
  const now = Date.now();
  const client = req.ip ?? '';
  let window = counts.get(client);
  if (!window || now - window.start >= WINDOW_MS) counts.set(client, (window = { start: now, count: 0 }));
  window.count += 1;
  res.locals.headers = {
    'X-Request-Id': randomUUID(),
    ...SECURITY_HEADERS,
    Vary: 'Origin',
    'RateLimit-Policy': `${LIMIT};w=${WINDOW_MS / 1000}`,
    RateLimit: `limit=${LIMIT}, remaining=${LIMIT - window.count}, reset=${Math.ceil((window.start + WINDOW_MS - now) / 1000)}`,
  };
  next();
});
app.use(express.json());

function send(res: Response, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...res.locals.headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** The caller of a request with a token, once the store says its session is live. */
async function caller(authorization: string | undefined): Promise<string | null> {
  if (!authorization) return null;
  return (await store.sessions.sessionState(seeded.id, SESSION_FAMILY)) === 'live' ? seeded.id : null;
}

app.get('/api/users/me', async (req, res) => {
  const userId = await caller(req.headers.authorization);
  if (!userId) return send(res, 401, { error: 'Authentication required' });
  const user = await store.users.findById(userId);
  send(res, 200, user ? publicUser(user) : null);
});

app.post('/api/items', async (req, res) => {
  const userId = await caller(req.headers.authorization);
  if (!userId) return send(res, 401, { error: 'Authentication required' });
  const { title, done } = req.body as { title: string; done?: boolean };
  const item = await store.items.create({ title, done: done ?? false, ownerId: userId });
  send(res, 201, publicItem(item));
});

app.patch('/api/items/:id', async (req, res) => {
  if (!(await caller(req.headers.authorization))) return send(res, 401, { error: 'Authentication required' });
  const item = await store.items.update(req.params.id, req.body as { title?: string; done?: boolean }, OWN_ITEMS);
  if (!item) send(res, 404, { error: 'Item not found' });
  else send(res, 200, publicItem(item));
});

const server = app.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ msg: 'listening', url: `http://127.0.0.1:${port}` })}\n`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
