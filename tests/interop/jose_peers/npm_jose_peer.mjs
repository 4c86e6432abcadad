#!/usr/bin/env node
// JOSE interop peer on npm `jose` (panva), the exact version pinned in package.json next to this file.
//
// It imports `jose` from the node_modules directory named by $JOSE_NODE_MODULES (npm_setup.py installs it
// with `npm ci` into the build tree), else from wherever Node finds it. Same command line and exit codes as
// the Python peers (see peer_common.py), JWK sets included; ENC_BITS and EC_CURVE repeat its tables (npm
// jose sizes symmetric keys itself). --json always gives the general serialization, even for one key (the
// Python peers give flattened); a JSON JWE carries "alg" and "kid" in the per-recipient unprotected header.
// Keys go to `jose` as JWK objects, so it checks a JWK's "alg" against the operation itself. Two quirks:
// it wants a public JWK to verify or encrypt (private members are dropped here), and, like the latchset
// jose CLI, it reads the "alg" of a direct-encryption key as its "enc" and refuses "dir" there (dropped too).
// What it does not implement (RSA1_5, ...) it reports as JOSENotSupported: exit 77 when producing.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';

const PROG = 'npm_jose_peer';
const UNSUPPORTED = 77;
const ENC_BITS = { A128GCM: 128, A192GCM: 192, A256GCM: 256, 'A128CBC-HS256': 256, 'A192CBC-HS384': 384,
  'A256CBC-HS512': 512 };
const EC_CURVE = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521', 'ECDH-ES': 'P-256',
  'ECDH-ES+A128KW': 'P-256', 'ECDH-ES+A192KW': 'P-384', 'ECDH-ES+A256KW': 'P-521' };
const RSA_BITS = 2048;
const REQUIRED = { genkey: ['alg'], sign: ['key'], verify: ['key'], encrypt: ['enc', 'key'], decrypt: ['key'] };
const PRODUCING = new Set(['genkey', 'sign', 'encrypt']);
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth'];

class Unsupported extends Error {}

async function loadJose() {
  const dir = process.env.JOSE_NODE_MODULES;
  if (!dir) return import('jose');
  const entry = createRequire(join(dir, 'resolve-from-here.js')).resolve('jose');
  return import(pathToFileURL(entry).href);
}

function parse(argv) {
  const [cmd, ...rest] = argv;
  if (!(cmd in REQUIRED)) throw new Error(`usage: ${PROG} {${Object.keys(REQUIRED).join(',')}} [options]`);
  const { values } = parseArgs({ args: rest, strict: true, options: {
    alg: { type: 'string' }, enc: { type: 'string' }, key: { type: 'string' }, json: { type: 'boolean' } } });
  for (const name of REQUIRED[cmd]) if (values[name] === undefined) throw new Error(`${cmd}: --${name} is required`);
  return { cmd, ...values };
}

const readInput = () => readFileSync(0);
const text = (bytes) => bytes.toString('utf8').trim();
const kidOf = (jwk) => (jwk.kid === undefined ? {} : { kid: jwk.kid });
// A compact token is dot-separated base64url; anything else must be JSON.
const isCompact = (s) => !s.startsWith('{');

const usable = (jwk) => {
  const { alg, ...rest } = jwk;
  return alg === 'dir' ? rest : jwk;
};
const usablePublic = (jwk) => Object.fromEntries(Object.entries(usable(jwk))
  .filter(([m]) => jwk.kty === 'oct' || !PRIVATE_MEMBERS.includes(m)));
const loadJwk = (path, load = usable) => load(JSON.parse(readFileSync(path, 'utf8')));

// [[jwk, alg]] for sign / encrypt: every key of a JWK (set) file with --alg or else its own "alg".
function loadKeys(o, load) {
  const doc = JSON.parse(readFileSync(o.key, 'utf8'));
  const keys = Array.isArray(doc?.keys) ? doc.keys : [doc];
  if (keys.length === 0 || !keys.every((k) => k?.kty)) throw new Error(`${o.key}: neither a JWK nor a JWK set`);
  if (keys.length > 1 && !o.json) throw new Error('several keys need --json: compact has room for one');
  return keys.map((k) => {
    const alg = o.alg ?? k.alg;
    if (!alg) throw new Error(`no --alg and the JWK ${JSON.stringify(k.kid ?? '')} has no "alg"`);
    return [load(k), alg];
  });
}

async function genkey(jose, o) {
  if (o.alg === 'dir' && !(o.enc in ENC_BITS)) throw new Error(`dir needs --enc, one of ${Object.keys(ENC_BITS)}`);
  const symmetric = o.alg === 'dir' || /^(HS\d+|A\d+(GCM)?KW)$/.test(o.alg);
  const opts = { extractable: true, ...(o.alg in EC_CURVE ? { crv: EC_CURVE[o.alg] } : { modulusLength: RSA_BITS }) };
  const key = symmetric ? await jose.generateSecret(o.alg === 'dir' ? o.enc : o.alg, opts)
    : (await jose.generateKeyPair(o.alg, opts)).privateKey;
  const kid = `npmjose-${o.alg}-${randomBytes(4).toString('hex')}`;
  return Buffer.from(`${JSON.stringify({ ...(await jose.exportJWK(key)), alg: o.alg, kid })}\n`);
}

async function sign(jose, o) {
  const keys = loadKeys(o, usable);
  const payload = readInput();
  if (!o.json) {
    const [[jwk, alg]] = keys;
    return Buffer.from(await new jose.CompactSign(payload).setProtectedHeader({ alg, ...kidOf(jwk) }).sign(jwk));
  }
  const jws = new jose.GeneralSign(payload);
  for (const [jwk, alg] of keys) jws.addSignature(jwk).setProtectedHeader({ alg, ...kidOf(jwk) });
  return Buffer.from(JSON.stringify(await jws.sign()));
}

async function verify(jose, o) {
  const jwk = loadJwk(o.key, usablePublic);
  const s = text(readInput());
  if (isCompact(s)) return Buffer.from((await jose.compactVerify(s, jwk)).payload);
  const jws = JSON.parse(s);
  const fn = 'signatures' in jws ? jose.generalVerify : jose.flattenedVerify;
  return Buffer.from((await fn(jws, jwk)).payload);
}

async function encrypt(jose, o) {
  const keys = loadKeys(o, usablePublic);
  const plaintext = readInput();
  if (!o.json) {
    const [[jwk, alg]] = keys;
    const header = { alg, enc: o.enc, ...kidOf(jwk) };
    return Buffer.from(await new jose.CompactEncrypt(plaintext).setProtectedHeader(header).encrypt(jwk));
  }
  const jwe = new jose.GeneralEncrypt(plaintext).setProtectedHeader({ enc: o.enc });
  for (const [jwk, alg] of keys) jwe.addRecipient(jwk).setUnprotectedHeader({ alg, ...kidOf(jwk) });
  return Buffer.from(JSON.stringify(await jwe.encrypt()));
}

async function decrypt(jose, o) {
  const jwk = loadJwk(o.key);
  const s = text(readInput());
  if (isCompact(s)) return Buffer.from((await jose.compactDecrypt(s, jwk)).plaintext);
  const jwe = JSON.parse(s);
  const fn = 'recipients' in jwe ? jose.generalDecrypt : jose.flattenedDecrypt;
  return Buffer.from((await fn(jwe, jwk)).plaintext);
}

async function main() {
  let o;
  try {
    o = parse(process.argv.slice(2));
    const jose = await loadJose();
    process.stdout.write(await { genkey, sign, verify, encrypt, decrypt }[o.cmd](jose, o));
    return 0;
  } catch (e) {
    if (e instanceof Unsupported || (e?.code === 'ERR_JOSE_NOT_SUPPORTED' && PRODUCING.has(o?.cmd))) {
      process.stderr.write(`unsupported: ${e.message}\n`);
      return UNSUPPORTED;
    }
    const message = `${e?.name ?? 'Error'}: ${e?.message ?? e}`.replace(/\s+/g, ' ');
    process.stderr.write(`${PROG}: ${o?.cmd ?? 'usage'} failed: ${message}\n`);
    return 1;
  }
}

process.exitCode = await main();
