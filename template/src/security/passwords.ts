/**
 * Password hashing for practice 4: argon2id from node:crypto, no native addon.
 *
 * Parameters follow OWASP's Password Storage Cheat Sheet (19 MiB memory, 2 passes,
 * 1 lane). Hashes are stored as PHC strings, so parameters can be raised later and old
 * hashes still verify.
 */
import { argon2, randomBytes, timingSafeEqual } from 'node:crypto';

const PARAMETERS = { memory: 19_456, passes: 2, parallelism: 1, tagLength: 32 } as const;
const SALT_BYTES = 16;
const PHC_PATTERN = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

function derive(password: string, salt: Buffer, memory: number, passes: number, parallelism: number, tagLength: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    argon2('argon2id', { message: password, nonce: salt, memory, passes, parallelism, tagLength }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

const encode = (bytes: Buffer): string => bytes.toString('base64').replace(/=+$/, '');

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const { memory, passes, parallelism, tagLength } = PARAMETERS;
  const hash = await derive(password, salt, memory, passes, parallelism, tagLength);
  return `$argon2id$v=19$m=${memory},t=${passes},p=${parallelism}$${encode(salt)}$${encode(hash)}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const match = PHC_PATTERN.exec(stored);
  if (!match) return false;
  const [, memory, passes, parallelism, salt = '', hash = ''] = match;
  const expected = Buffer.from(hash, 'base64');
  const actual = await derive(password, Buffer.from(salt, 'base64'), Number(memory), Number(passes), Number(parallelism), expected.length);
  return timingSafeEqual(actual, expected);
}

/**
 * A hash to verify against when the account does not exist, so that an unknown email
 * costs the same time as a wrong password and timing does not reveal which it was.
 */
export const createDecoyHash = (): Promise<string> => hashPassword(randomBytes(32).toString('base64'));
