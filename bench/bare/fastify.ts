/**
 * Bare Fastify 5 baseline for bench/run.py: the generated API's three measured routes with no
 * security hooks or plugins at all (no headers, CORS, rate limit, token check, validation,
 * injection guard, request id or error mapping), on the same framework version and store.
 *
 * bench/run.py copies this file into bench/ of a scratch copy of the generated project, so
 * `fastify` and `../src/db/index.ts` resolve to exactly what the hardened server runs.
 * The user of GET /api/users/me and the owner of items are fixed at start (there is no token to
 * read them from).
 */
import Fastify from 'fastify';
import { openDatabase } from '../src/db/index.ts';
import type { Item } from '../src/items/repository.ts';
import type { User } from '../src/users/repository.ts';

const store = await openDatabase(process.env.DATABASE_URL ?? '', { migrateOnStart: true });
// No object-level check: the change applies to an item of any owner.
const ANY_OWNER = { anyOwner: true } as const;
const seeded = await store.users.create({ email: 'bare@example.test', name: 'Bare', age: 30, passwordHash: null, createdBy: null });
const publicUser = (user: User) => ({ id: user.id, email: user.email, name: user.name, age: user.age });
const publicItem = (item: Item) => ({ id: item.id, title: item.title, done: item.done, ownerId: item.ownerId, createdAt: item.createdAt.toISOString() });

const app = Fastify({ logger: false });

app.get('/api/users/me', async (request, reply) => {
  if (!request.headers.authorization) return reply.code(401).send({ error: 'Authentication required' });
  const user = await store.users.findById(seeded.id);
  return user ? publicUser(user) : null;
});

app.post('/api/items', async (request, reply) => {
  const { title, done } = request.body as { title: string; done?: boolean };
  const item = await store.items.create({ title, done: done ?? false, ownerId: seeded.id });
  return reply.code(201).send(publicItem(item));
});

app.patch('/api/items/:id', async (request, reply) => {
  const item = await store.items.update((request.params as { id: string }).id, request.body as { title?: string; done?: boolean }, ANY_OWNER);
  return item ? publicItem(item) : reply.code(404).send({ error: 'Item not found' });
});

const url = await app.listen({ port: Number(process.env.PORT ?? 0), host: process.env.HOST ?? '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ msg: 'listening', url })}\n`);
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
