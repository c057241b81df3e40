/**
 * The floor on Fastify 5, for bench/floor.py: the bare baseline (bench/bare/fastify.ts) plus only
 * what no hardened design can leave out of these requests, each done the cheapest way there is:
 *
 * - the response headers every answer carries (the security headers of src/security/headers.ts,
 *   X-Request-Id from randomUUID, Vary: Origin, and the two RateLimit headers);
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
import Fastify from 'fastify';
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

const app = Fastify({ logger: false, genReqId: () => randomUUID() });
// A hook with a callback, not async: no promise per request.
app.addHook('onRequest', (request, reply, done) => {
  const now = Date.now();
  let window = counts.get(request.ip);
  if (!window || now - window.start >= WINDOW_MS) counts.set(request.ip, (window = { start: now, count: 0 }));
  window.count += 1;
  reply
    .header('X-Request-Id', request.id)
    .headers(SECURITY_HEADERS)
    .header('Vary', 'Origin')
    .header('RateLimit-Policy', `${LIMIT};w=${WINDOW_MS / 1000}`)
    .header('RateLimit', `limit=${LIMIT}, remaining=${LIMIT - window.count}, reset=${Math.ceil((window.start + WINDOW_MS - now) / 1000)}`);
  done();
});

/** The caller of a request with a token, once the store says its session is live. */
async function caller(authorization: string | undefined): Promise<string | null> {
  if (!authorization) return null;
  return (await store.sessions.sessionState(seeded.id, SESSION_FAMILY)) === 'live' ? seeded.id : null;
}

app.get('/api/users/me', async (request, reply) => {
  const userId = await caller(request.headers.authorization);
  if (!userId) return reply.code(401).send({ error: 'Authentication required' });
  const user = await store.users.findById(userId);
  return user ? publicUser(user) : null;
});

app.post('/api/items', async (request, reply) => {
  const userId = await caller(request.headers.authorization);
  if (!userId) return reply.code(401).send({ error: 'Authentication required' });
  const { title, done } = request.body as { title: string; done?: boolean };
  const item = await store.items.create({ title, done: done ?? false, ownerId: userId });
  return reply.code(201).send(publicItem(item));
});

app.patch('/api/items/:id', async (request, reply) => {
  if (!(await caller(request.headers.authorization))) return reply.code(401).send({ error: 'Authentication required' });
  const item = await store.items.update((request.params as { id: string }).id, request.body as { title?: string; done?: boolean }, OWN_ITEMS);
  return item ? publicItem(item) : reply.code(404).send({ error: 'Item not found' });
});

const url = await app.listen({ port: Number(process.env.PORT ?? 0), host: process.env.HOST ?? '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ msg: 'listening', url })}\n`);
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
