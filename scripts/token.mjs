#!/usr/bin/env node
// `npm run token -- alice [--expires-in 3600]`: a development bearer token for a user, signed with
// JWT_SECRET from the environment or .dev.vars (HS256, sub = user id, exp = now + expires-in seconds).
import { parseArgs } from 'node:util';
import { sign } from 'hono/jwt';
import { loadDevVars } from './worker-env.mjs';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { 'expires-in': { type: 'string', default: '3600' } },
});
const [user] = positionals;
const ttl = Number(values['expires-in']);
if (!user || positionals.length > 1 || !Number.isInteger(ttl)) {
  console.error('usage: npm run token -- <user-id> [--expires-in seconds]');
  process.exit(2);
}
const secret = process.env.JWT_SECRET || loadDevVars().JWT_SECRET;
if (!secret) {
  console.error('No JWT_SECRET in the environment or .dev.vars.');
  process.exit(1);
}
const now = Math.floor(Date.now() / 1000);
console.log(await sign({ sub: user, iat: now, exp: now + ttl }, secret, 'HS256'));
