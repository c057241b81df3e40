/**
 * The users endpoints, independent of the HTTP framework. With authentication, only an admin
 * creates user records (a user's token gets 403), and a record is visible to the user it
 * describes and to admins; in a public API (auth: none) anyone may create and read them.
 */
import { defineRoute, type Route } from '../api/route.ts';
import { ErrorSchema, NoParams, NoQuery } from '../api/schemas.ts';
import { ownedOrNotFound } from '../security/authorization.ts';
import { AppError } from '../security/errors.ts';
import { securityEvent } from '../security/events.ts';
import { DuplicateEmailError, type NewUser, type User, type UserRepository } from './repository.ts';
import { CurrentUser, PublicUser, UserIdParams, UserSchema } from './schemas.ts';

export interface UserRouteDependencies {
  users: UserRepository;
  /** True when accounts and tokens exist (any auth choice but none). */
  authenticated: boolean;
}

const error = (description: string) => ({ description, schema: ErrorSchema });
const publicUser = (user: User) => ({ id: user.id, email: user.email, name: user.name, age: user.age });

/** Creates a user, turning a taken email into 409. */
export async function createUser(users: UserRepository, user: NewUser): Promise<User> {
  try {
    return await users.create(user);
  } catch (failure) {
    if (failure instanceof DuplicateEmailError) throw new AppError(409, 'A user with this email already exists');
    throw failure;
  }
}

export function createUserRoutes({ users, authenticated }: UserRouteDependencies): Route[] {
  // A user record is its own: the account itself, or admins. In a public API it has no owner.
  const ownerOfUser = (user: User) => (authenticated ? user.id : null);
  const routes: Route[] = [
    defineRoute({
      method: 'POST',
      path: '/api/users',
      summary: authenticated ? 'Create a user record that cannot log in (admin only)' : 'Create a user record',
      tag: 'users',
      // Only admins: anyone else could take an email and so block its owner from registering.
      access: authenticated ? { role: 'admin' } : 'public',
      schemas: { body: UserSchema, params: NoParams, query: NoQuery },
      responses: { 201: { description: 'User created', schema: PublicUser }, 409: error('Email already registered') },
      async handle({ body, caller }) {
        const user = await createUser(users, { ...body, passwordHash: null, createdBy: caller?.userId ?? null });
        return { status: 201, body: publicUser(user), events: [securityEvent('user_created', 'user record created', { createdUserId: user.id })] };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/users/:id',
      summary: authenticated ? 'A user: yourself, or anyone for an admin' : 'A user',
      tag: 'users',
      access: authenticated ? 'authenticated' : 'public',
      resource: 'user',
      schemas: { params: UserIdParams, query: NoQuery },
      responses: { 200: { description: 'The user', schema: PublicUser }, 404: error('No such user visible to you') },
      async handle({ params, caller }) {
        const user = ownedOrNotFound(caller, await users.findById(params.id), ownerOfUser, 'User');
        return { status: 200, body: publicUser(user) };
      },
    }),
  ];
  if (authenticated) {
    routes.unshift(
      defineRoute({
        method: 'GET',
        path: '/api/users/me',
        summary: 'The authenticated user, with their roles',
        tag: 'users',
        access: 'authenticated',
        schemas: { params: NoParams, query: NoQuery },
        responses: { 200: { description: 'The user', schema: CurrentUser } },
        async handle({ caller }) {
          const user = await users.findById(caller.userId);
          if (!user) throw new AppError(401, 'Account no longer exists', { headers: { 'WWW-Authenticate': 'Bearer realm="api"' } });
          return { status: 200, body: { ...publicUser(user), roles: user.roles } };
        },
      }),
    );
  }
  return routes;
}
