/**
 * The API's endpoints, independent of the HTTP framework.
 */
import type { Store, User } from '../db/index.ts';
import { DuplicateEmailError } from '../db/index.ts';
import { AppError } from '../security/errors.ts';
import { unauthorized, type TokenService } from '../security/jwt.ts';
import { hashPassword, verifyPassword } from '../security/passwords.ts';
import { defineRoute, type Route } from './route.ts';
import {
  ErrorSchema,
  LoginSchema,
  LogoutSchema,
  NoParams,
  NoQuery,
  PublicUser,
  RefreshSchema,
  RegisteredUser,
  RegisterSchema,
  TokenPairSchema,
  UserIdParams,
  UserSchema,
} from './schemas.ts';

export interface RouteDependencies {
  store: Store;
  tokens: TokenService;
  /** Verified against when an email is unknown, so both failures take the same time. */
  decoyPasswordHash: string;
}

const error = (description: string) => ({ description, schema: ErrorSchema });
const INVALID_CREDENTIALS = 'Invalid email or password';

const publicUser = (user: User) => ({ id: user.id, email: user.email, name: user.name, age: user.age });

async function createUser(store: Store, user: Parameters<Store['createUser']>[0]): Promise<User> {
  try {
    return await store.createUser(user);
  } catch (failure) {
    if (failure instanceof DuplicateEmailError) throw new AppError(409, 'A user with this email already exists');
    throw failure;
  }
}

export function createRoutes({ store, tokens, decoyPasswordHash }: RouteDependencies): Route[] {
  return [
    defineRoute({
      method: 'POST',
      path: '/api/auth/register',
      summary: 'Create an account',
      tag: 'auth',
      auth: 'none',
      authLimiter: 'register',
      schemas: { body: RegisterSchema, params: NoParams, query: NoQuery },
      responses: { 201: { description: 'Account created', schema: RegisteredUser }, 409: error('Email already registered') },
      async handle({ body }) {
        const passwordHash = await hashPassword(body.password);
        const user = await createUser(store, { email: body.email, name: body.name, age: body.age, passwordHash, createdBy: null });
        return { status: 201, body: { id: user.id, email: user.email, name: user.name } };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/auth/login',
      summary: 'Exchange credentials for an access and a refresh token',
      tag: 'auth',
      auth: 'none',
      authLimiter: 'login',
      schemas: { body: LoginSchema, params: NoParams, query: NoQuery },
      responses: { 200: { description: 'Tokens issued', schema: TokenPairSchema }, 401: error(INVALID_CREDENTIALS) },
      async handle({ body }) {
        const user = await store.findUserByEmail(String(body.email));
        const valid = await verifyPassword(String(body.password), user?.passwordHash ?? decoyPasswordHash);
        if (!user?.passwordHash || !valid) throw new AppError(401, INVALID_CREDENTIALS);
        return { status: 200, body: await tokens.issue(user.id) };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/auth/refresh',
      summary: 'Rotate a refresh token',
      tag: 'auth',
      auth: 'none',
      authLimiter: 'refresh',
      schemas: { body: RefreshSchema, params: NoParams, query: NoQuery },
      responses: { 200: { description: 'New token pair', schema: TokenPairSchema }, 401: error('Invalid or revoked refresh token') },
      async handle({ body }) {
        return { status: 200, body: await tokens.rotate(body.refreshToken) };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/auth/logout',
      summary: 'Revoke a refresh token and its family',
      tag: 'auth',
      auth: 'bearer',
      schemas: { body: LogoutSchema, params: NoParams, query: NoQuery },
      responses: { 204: { description: 'Logged out' }, 401: error('Invalid token') },
      async handle({ body, userId }) {
        await tokens.revoke(body.refreshToken, userId);
        return { status: 204 };
      },
    }),
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
        if (!user) throw unauthorized('Account no longer exists', 'the account was deleted');
        return { status: 200, body: publicUser(user) };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/users',
      summary: 'Create a user record (cannot log in)',
      tag: 'users',
      auth: 'bearer',
      schemas: { body: UserSchema, params: NoParams, query: NoQuery },
      responses: { 201: { description: 'User created', schema: PublicUser }, 409: error('Email already registered') },
      async handle({ body, userId }) {
        const user = await createUser(store, { ...body, passwordHash: null, createdBy: userId });
        return { status: 201, body: publicUser(user) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/users/:id',
      summary: 'A user you are, or created',
      tag: 'users',
      auth: 'bearer',
      schemas: { params: UserIdParams, query: NoQuery },
      responses: { 200: { description: 'The user', schema: PublicUser }, 404: error('No such user visible to you') },
      async handle({ params, userId }) {
        const user = await store.findUserById(params.id);
        // Object-level authorization: other users' records are indistinguishable from missing ones.
        if (!user || (user.id !== userId && user.createdBy !== userId)) throw new AppError(404, 'User not found');
        return { status: 200, body: publicUser(user) };
      },
    }),
  ];
}
