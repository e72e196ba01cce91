import type { MiddlewareHandler } from 'hono';
import { jwt } from 'hono/jwt';
import { checkUserId } from '../src/store.js';
import type { Env } from './env.js';
import { HttpError } from './http-errors.js';

/** What the routes know about the caller: only the verified subject of their token. */
export type AuthVariables = { userId: string; jwtPayload: { sub?: unknown; exp?: unknown } };

type AuthEnv = { Bindings: Env; Variables: AuthVariables };

/**
 * Bearer JWT (HS256, `JWT_SECRET`) through Hono's JWT middleware, which checks the signature and `exp`.
 * On top of it, a token must have an `exp` (no tokens valid forever) and a string `sub`: the user id every
 * KV key is derived from. Nothing in the path, query or body can name a user.
 */
export function requireUser(): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    if (!c.env.JWT_SECRET) throw new HttpError(500, 'INTERNAL', 'JWT_SECRET is not set: add it to .dev.vars, or `wrangler secret put JWT_SECRET`.');
    const verify = jwt({ secret: c.env.JWT_SECRET, alg: 'HS256' });
    return verify(c, async () => {
      const { sub, exp } = c.get('jwtPayload');
      if (typeof exp !== 'number') throw new HttpError(401, 'UNAUTHENTICATED', 'The token has no "exp": tokens must expire.');
      let userId: string;
      try {
        userId = checkUserId(sub);
      } catch {
        throw new HttpError(401, 'UNAUTHENTICATED', 'The token\'s "sub" must be the user id: 1-256 characters without control characters.');
      }
      c.set('userId', userId);
      await next();
    });
  };
}
