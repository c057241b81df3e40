/**
 * Bare Fastify 5 baseline for bench/run.py: the generated API's three measured routes with no
 * security hooks or plugins at all (no headers, CORS, rate limit, token check, validation,
 * injection guard, request id or error mapping), on the same framework version and store.
 *
 * bench/run.py copies this file into bench/ of a scratch copy of the generated project, so
 * `fastify` and `../src/db/index.ts` resolve to exactly what the hardened server runs.
 * The user of GET /api/users/me is fixed at start (there is no token to read it from).
 */
import Fastify from 'fastify';
import { openStore, type User } from '../src/db/index.ts';

const store = await openStore(process.env.DATABASE_URL ?? '', { migrateOnStart: true });
const seeded = await store.createUser({ email: 'bare@example.test', name: 'Bare', age: 30, passwordHash: null, createdBy: null });
const publicUser = (user: User) => ({ id: user.id, email: user.email, name: user.name, age: user.age });

const app = Fastify({ logger: false });

app.get('/api/users/me', async (request, reply) => {
  if (!request.headers.authorization) return reply.code(401).send({ error: 'Authentication required' });
  const user = await store.findUserById(seeded.id);
  return user ? publicUser(user) : null;
});

app.post('/api/users', async (request, reply) => {
  const { email, name, age } = request.body as { email: string; name: string; age: number };
  const user = await store.createUser({ email, name, age, passwordHash: null, createdBy: seeded.id });
  return reply.code(201).send(publicUser(user));
});

const url = await app.listen({ port: Number(process.env.PORT ?? 0), host: process.env.HOST ?? '127.0.0.1' });
process.stdout.write(`${JSON.stringify({ msg: 'listening', url })}\n`);
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
