/**
 * Bare Express 5 baseline for bench/run.py: the generated API's three measured routes with no
 * security middleware at all (no headers, CORS, rate limit, token check, validation, injection
 * guard, request id or error mapping), on the same framework version and the same store.
 *
 * bench/run.py copies this file into bench/ of a scratch copy of the generated project, so
 * `express` and `../src/db/index.ts` resolve to exactly what the hardened server runs.
 * The user of GET /api/users/me and the owner of items are fixed at start (there is no token to
 * read them from).
 */
import express from 'express';
import { openDatabase } from '../src/db/index.ts';
import type { Item } from '../src/items/repository.ts';
import type { User } from '../src/users/repository.ts';

const store = await openDatabase(process.env.DATABASE_URL ?? '', { migrateOnStart: true });
// No object-level check: the change applies to an item of any owner.
const ANY_OWNER = { anyOwner: true } as const;
const seeded = await store.users.create({ email: 'bare@example.test', name: 'Bare', age: 30, passwordHash: null, createdBy: null });
const publicUser = (user: User) => ({ id: user.id, email: user.email, name: user.name, age: user.age });
const publicItem = (item: Item) => ({ id: item.id, title: item.title, done: item.done, ownerId: item.ownerId, createdAt: item.createdAt.toISOString() });

const app = express();
// The hardened app turns ETags off too (it sends no-store); keep that difference out of the numbers.
app.set('etag', false);
app.use(express.json());

app.get('/api/users/me', async (req, res) => {
  if (!req.headers.authorization) {
    res.status(401).json({ error: 'Authentication required' });
    return;
  }
  const user = await store.users.findById(seeded.id);
  res.json(user ? publicUser(user) : null);
});

app.post('/api/items', async (req, res) => {
  const { title, done } = req.body as { title: string; done?: boolean };
  const item = await store.items.create({ title, done: done ?? false, ownerId: seeded.id });
  res.status(201).json(publicItem(item));
});

app.patch('/api/items/:id', async (req, res) => {
  const item = await store.items.update(req.params.id, req.body as { title?: string; done?: boolean }, ANY_OWNER);
  if (!item) res.status(404).json({ error: 'Item not found' });
  else res.json(publicItem(item));
});

const server = app.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ msg: 'listening', url: `http://127.0.0.1:${port}` })}\n`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
