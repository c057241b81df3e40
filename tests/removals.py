"""What "removing a practice" means, per framework: the smallest edit to the generated project
that takes the protection away. Each edit must find its target text exactly once, so a
refactor of the template cannot make a removal silently do nothing.

docs/proof.md explains the method; tests/test_practice_removal.py applies each edit and
checks that `npm test` fails, and fails in the practice's own proof file.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Edit:
    file: str
    find: str
    replace: str


# Removals that do not depend on the framework.
UNVERIFIED_ACCESS_TOKENS = Edit(
    # Trust the token's claims without checking signature, algorithm, expiry, issuer or audience.
    "src/security/jwt.ts",
    "const payload = this.#verify(this.#keys.verifyAccess, token);",
    "const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;",
)
NO_SIGTERM_HANDLER = Edit("src/server.ts", "process.once('SIGTERM', (signal) => void shutdown(signal));", "")
# The security events module records nothing: no line for a refusal, a sign-in or a refused configuration.
SILENT_SECURITY_EVENTS = [
    Edit(
        "src/security/events.ts",
        "    record({ event, description, userId, details }, context) {",
        "    record({ event, description, userId, details }, context) {\n      return;",
    ),
    Edit("src/security/events.ts", "  process.stdout.write(`${JSON.stringify(line)}\\n`);", ""),
]
LOOSE_NPM_SETTINGS = [
    Edit(".npmrc", "ignore-scripts=true", "ignore-scripts=false"),
    Edit(".npmrc", "save-exact=true", ""),
]

# Authorization lives in one framework-neutral module; each of its two checks is removed on its own.
AUTHORIZATION_REMOVALS: dict[str, list[Edit]] = {
    # Object level: any caller may act on any record.
    "ownership": [
        Edit(
            "src/security/authorization.ts",
            "isAdmin(caller) ? ANY_OWNER : { anyOwner: false, ownerId: caller?.userId ?? null };",
            "ANY_OWNER;",
        ),
    ],
    # Function level: any authenticated caller passes a role route.
    "role": [
        Edit(
            "src/security/authorization.ts",
            "if (access !== 'authenticated' && !caller.roles.includes(access.role)) throw forbidden(access.role, caller.userId);",
            "",
        ),
    ],
}

EXPRESS_REMOVALS: dict[str, list[Edit]] = {
    "validation": [
        Edit("src/app.ts", "const input = validateRequest(route.schemas, parts);", "const input = parts;"),
    ],
    "headers": [
        Edit("src/app.ts", "addHeaders(res, SECURITY_HEADERS);", ""),
        Edit("src/app.ts", "app.disable('x-powered-by');", ""),
    ],
    "rate-limit": [
        Edit("src/app.ts", "addHeaders(res, await limiters.api.consume(key));", ""),
        Edit("src/app.ts", "if (authLimiter) addHeaders(res, await authLimiter.consume(key));", ""),
        # Requests refused before any route (origin, no route, Host, Expect) are not counted either.
        Edit("src/app.ts", "addHeaders(res, await limiters.api.consume(clientKey(req.ip)));", ""),
    ],
    "jwt": [UNVERIFIED_ACCESS_TOKENS],
    "injection": [
        Edit("src/app.ts", "assertNoOperatorKeys(parts);", ""),
    ],
    "cors": [
        Edit(
            "src/app.ts",
            "const cors = corsPolicy(req.method, req.headers.origin, req.headers['access-control-request-method']);",
            "const cors = { headers: {}, preflight: false };",
        ),
    ],
    "errors": [
        Edit("src/app.ts", "app.use((req, _res, next) => next(unmatchedRequestError(req.method, req.path)));", ""),
        Edit(
            "src/app.ts",
            "app.use(async (error: unknown, req: Request, res: Response, _next: NextFunction) => {",
            "app.use('/__error-handler-removed', async (error: unknown, req: Request, res: Response, _next: NextFunction) => {",
        ),
        # Route handlers answer their own errors; without that, Express's default handler does.
        Edit(
            "src/app.ts",
            "serve(req, res).catch((error: unknown) => answerError(req, res, error, route.path));",
            "serve(req, res);",
        ),
        Edit("src/app.ts", "headersTimeout: timeouts.headersMs,", ""),
        NO_SIGTERM_HANDLER,
    ],
    "supply-chain": LOOSE_NPM_SETTINGS,
    "authorization": AUTHORIZATION_REMOVALS["ownership"],
    "events": SILENT_SECURITY_EVENTS,
}

FASTIFY_REMOVALS: dict[str, list[Edit]] = {
    "validation": [
        Edit("src/app.ts", "return { value: parseRequestPart(schema, data, location) };", "return { value: data };"),
    ],
    "headers": [
        Edit("src/app.ts", "reply.headers(SECURITY_HEADERS);", ""),
        Edit("src/app.ts", "reply.header('X-Request-Id', request.id).headers(SECURITY_HEADERS);", "reply.header('X-Request-Id', request.id);"),
    ],
    "rate-limit": [
        Edit("src/app.ts", "reply.headers(await limiters.api.consume(clientKey(request.ip)));", ""),
        Edit("src/app.ts", "if (authLimiter) reply.headers(await authLimiter.consume(clientKey(request.ip)));", ""),
        # Requests refused before any route (origin, no route, Host, Expect, a malformed URL) are not counted either.
        Edit("src/app.ts", "const counted = await limiters.api.consume(clientKey(request.ip));", "const counted = {};"),
    ],
    "jwt": [UNVERIFIED_ACCESS_TOKENS],
    "injection": [
        Edit("src/app.ts", "assertNoOperatorKeys({ body: request.body, params: request.params, query: request.query });", ""),
    ],
    "cors": [
        Edit(
            "src/app.ts",
            "const cors = corsPolicy(request.method, request.headers.origin, request.headers['access-control-request-method']);",
            "const cors = { headers: {}, preflight: false };",
        ),
    ],
    "errors": [
        Edit("src/app.ts", "app.setErrorHandler((error, request, reply) => sendError(error, request, reply));", ""),
        Edit("src/app.ts", "if (request.is404) throw unmatchedRequestError(request.method, pathOf(request.url));", ""),
        Edit("src/app.ts", "app.setNotFoundHandler((request, reply) => sendError(unmatchedRequestError(request.method, pathOf(request.url)), request, reply));", ""),
        Edit("src/app.ts", "headersTimeout: timeouts.headersMs,", ""),
        NO_SIGTERM_HANDLER,
    ],
    "supply-chain": LOOSE_NPM_SETTINGS,
    "authorization": AUTHORIZATION_REMOVALS["ownership"],
    "events": SILENT_SECURITY_EVENTS,
}

REMOVALS = {"express": EXPRESS_REMOVALS, "fastify": FASTIFY_REMOVALS}

# auth: oidc. The checks RFC 9068 asks of a resource server that the library would not make on
# its own, and the fetch policy that protects the provider; each removed alone turns
# test/security/oidc.test.ts red, on both frameworks (the module is framework-neutral).
OIDC_REMOVALS: dict[str, list[Edit]] = {
    # Any audience: a token the provider issued for another API is accepted here.
    "audience": [Edit("src/security/oidc.ts", "        audience: this.#settings.audience,\n", "")],
    # Any type: an ID token, or any JWT the provider signed, passes as an access token.
    "type": [
        Edit(
            "src/security/oidc.ts",
            "    if (typeof header.typ !== 'string' || !this.#tokenTypes.has(normalizeTokenType(header.typ))) throw this.#refused('not an access token type');\n",
            "",
        )
    ],
    # No cooldown: every token with an unknown kid makes the server fetch the provider's keys.
    "cooldown": [Edit("src/security/oidc-keys.ts", "      else if (this.#inCooldown()) throw error;\n", "")],
}

# Database-level removals: the SQL built by concatenation instead of parameters.
DATABASE_REMOVALS: dict[str, dict[str, list[Edit]]] = {
    "postgres": {
        "injection": [
            Edit(
                "src/users/postgres.ts",
                "const { rows } = await this.#pool.query<UserRow>(SQL.userByEmail, [email]);\n    const [row] = rows;\n    return row ? { ...toUser(row), passwordHash: row.password_hash } : null;",
                "const { rows } = await this.#pool.query<UserRow>(`SELECT ${ACCOUNT_COLUMNS} FROM users WHERE email = '${email}'`);\n    const [row] = rows;\n    return row ? { ...toUser(row), passwordHash: row.password_hash } : null;",
            ),
        ],
    },
}
