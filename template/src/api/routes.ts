/**
 * The users endpoints, independent of the HTTP framework. With authentication, records are
 * visible only to the user they describe and to the user who created them; in a public API
 * (auth: none) anyone may create and read them.
 */
import type { Store, User } from '../db/index.ts';
import { DuplicateEmailError } from '../db/index.ts';
import { AppError } from '../security/errors.ts';
import { defineRoute, type Route } from './route.ts';
import { ErrorSchema, NoParams, NoQuery, PublicUser, UserIdParams, UserSchema } from './schemas.ts';

export interface UserRouteDependencies {
  store: Store;
  /** True when a bearer token is required (any auth choice but none). */
  authenticated: boolean;
}

const error = (description: string) => ({ description, schema: ErrorSchema });
const publicUser = (user: User) => ({ id: user.id, email: user.email, name: user.name, age: user.age });

/** Creates a user, turning a taken email into 409. */
export async function createUser(store: Store, user: Parameters<Store['createUser']>[0]): Promise<User> {
  try {
    return await store.createUser(user);
  } catch (failure) {
    if (failure instanceof DuplicateEmailError) throw new AppError(409, 'A user with this email already exists');
    throw failure;
  }
}

export function createUserRoutes({ store, authenticated }: UserRouteDependencies): Route[] {
  const auth = authenticated ? 'bearer' : 'none';
  const routes: Route[] = [
    defineRoute({
      method: 'POST',
      path: '/api/users',
      summary: authenticated ? 'Create a user record (cannot log in)' : 'Create a user record',
      tag: 'users',
      auth,
      schemas: { body: UserSchema, params: NoParams, query: NoQuery },
      responses: { 201: { description: 'User created', schema: PublicUser }, 409: error('Email already registered') },
      async handle({ body, userId }) {
        const user = await createUser(store, { ...body, passwordHash: null, createdBy: userId || null });
        return { status: 201, body: publicUser(user) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/users/:id',
      summary: authenticated ? 'A user you are, or created' : 'A user',
      tag: 'users',
      auth,
      schemas: { params: UserIdParams, query: NoQuery },
      responses: { 200: { description: 'The user', schema: PublicUser }, 404: error('No such user visible to you') },
      async handle({ params, userId }) {
        const user = await store.findUserById(params.id);
        // Object-level authorization: other users' records are indistinguishable from missing ones.
        const visible = user && (!authenticated || user.id === userId || user.createdBy === userId);
        if (!visible) throw new AppError(404, 'User not found');
        return { status: 200, body: publicUser(user) };
      },
    }),
  ];
  if (authenticated) {
    routes.unshift(
      defineRoute({
        method: 'GET',
        path: '/api/users/me',
        summary: 'The authenticated user',
        tag: 'users',
        auth: 'bearer',
        schemas: { params: NoParams, query: NoQuery },
        responses: { 200: { description: 'The user', schema: PublicUser }, 401: error('Invalid token') },
        async handle({ userId }) {
          const user = await store.findUserById(userId);
          if (!user) throw new AppError(401, 'Account no longer exists', { headers: { 'WWW-Authenticate': 'Bearer realm="api"' } });
          return { status: 200, body: publicUser(user) };
        },
      }),
    );
  }
  return routes;
}
