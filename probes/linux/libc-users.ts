/**
 * libc's user database calls (getpwuid_r, getpwnam_r): names come through NSS as `ps` and `id`
 * see them (files, LDAP, sssd...), not only from /etc/passwd. struct passwd is the same in glibc
 * and musl; koffi lays it out for this ABI and the offsets are read from it, never assumed.
 */
import type * as Koffi from 'koffi';
import { koffi, libcFunction as fn } from './libc.js';

let passwd: Koffi.TypeObject | undefined;

/** struct passwd of <pwd.h>, declared on first use. */
export function passwdType(): Koffi.TypeObject {
  return (passwd ??= koffi().struct('fdscan_passwd', {
    pw_name: 'void *', pw_passwd: 'void *', pw_uid: 'uint32_t', pw_gid: 'uint32_t',
    pw_gecos: 'void *', pw_dir: 'void *', pw_shell: 'void *',
  }));
}

/** 0 or an errno; `found` holds a non-null pointer when an entry was found. Strings point into `strings`. */
export const getpwuidR = (uid: number, entry: Buffer, strings: Buffer, found: Buffer): number =>
  fn('int getpwuid_r(uint32_t uid, _Out_ void *pwd, _Out_ void *buf, size_t buflen, _Out_ void *result)')(uid, entry, strings, strings.length, found);
export const getpwnamR = (name: string, entry: Buffer, strings: Buffer, found: Buffer): number =>
  fn('int getpwnam_r(const char *name, _Out_ void *pwd, _Out_ void *buf, size_t buflen, _Out_ void *result)')(name, entry, strings, strings.length, found);
