/** User names and ids of Linux through the C library's user database (NSS), cached per process. */
import { constants } from 'node:os';
import { OsError } from '../../src/probe-kit/index.js';
import { koffi } from './libc.js';
import { getpwnamR, getpwuidR, passwdType } from './libc-users.js';

const { ERANGE } = constants.errno;
const names = new Map<number, string | undefined>();
const ids = new Map<string, number | undefined>();

/** The user called `uid` in the user database, undefined when it has no entry. */
export function linuxUserName(uid: number): string | undefined {
  if (!names.has(uid)) names.set(uid, lookup(`getpwuid_r(${uid})`, (e, s, f) => getpwuidR(uid, e, s, f))?.name);
  return names.get(uid);
}

/** The uid of the user called `name`, undefined when there is none. */
export function linuxUserId(name: string): number | undefined {
  // A name holding NUL would be cut by C; no user is called that.
  if (name.includes('\0')) return undefined;
  if (!ids.has(name)) ids.set(name, lookup(`getpwnam_r(${JSON.stringify(name)})`, (e, s, f) => getpwnamR(name, e, s, f))?.uid);
  return ids.get(name);
}

type Call = (entry: Buffer, strings: Buffer, found: Buffer) => number;

/** Run a *_r call, growing its string buffer on ERANGE; undefined when the database has no entry. */
function lookup(what: string, call: Call): { name: string; uid: number } | undefined {
  const k = koffi();
  const type = passwdType();
  const entry = Buffer.alloc(k.sizeof(type));
  const found = Buffer.alloc(k.sizeof('void *'));
  for (let size = 1024; ; size *= 4) {
    const strings = Buffer.alloc(size);
    const code = call(entry, strings, found);
    if (code === ERANGE && size < 1024 * 1024) continue;
    // ENOENT, ESRCH, EBADF and EPERM mean "no such user" for some NSS modules (getpwnam_r(3)).
    if (code !== 0 && code !== constants.errno.ENOENT && code !== constants.errno.ESRCH && code !== constants.errno.EBADF && code !== constants.errno.EPERM) {
      throw new OsError(what, code);
    }
    if (code !== 0 || found.every((byte) => byte === 0)) return undefined;
    return { name: k.decode(entry, k.offsetof(type, 'pw_name'), 'char *') as string, uid: k.decode(entry, k.offsetof(type, 'pw_uid'), 'uint32_t') as number };
  }
}
