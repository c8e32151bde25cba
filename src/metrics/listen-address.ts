/** `--listen HOST:PORT` of `fdscan serve`: parsed and checked before anything listens. */
import { isIPv4, isIPv6 } from 'node:net';
import { UsageError } from '../errors.js';

export interface ListenAddress {
  host: string;
  /** 0: a free port chosen by the system (printed once listening). */
  port: number;
}

export const DEFAULT_LISTEN = '127.0.0.1:9256';

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** `127.0.0.1:9256`, `[::1]:9256`, `localhost:9256`; anything else is a UsageError naming the form. */
export function parseListenAddress(text: string): ListenAddress {
  const bad = (why: string): UsageError => new UsageError(`--listen takes HOST:PORT such as 127.0.0.1:9256 or [::1]:9256, not '${text}': ${why}`);
  const match = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d+)$/.exec(text);
  if (!match) throw bad(text.includes(':') ? 'an IPv6 address goes in brackets' : 'no port');
  const host = match[1] ?? match[2]!;
  if (host === '') throw bad('no host (0.0.0.0 listens on every IPv4 address, [::] on every address)');
  if (match[1] !== undefined ? !isIPv6(host) : !(isIPv4(host) || (HOST_NAME.test(host) && !/^[\d.]+$/.test(host)))) {
    throw bad(`'${host}' is not an ${match[1] !== undefined ? 'IPv6 address' : 'IPv4 address or host name'}`);
  }
  const port = Number(match[3]);
  if (port > 65535) throw bad('ports go up to 65535');
  return { host, port };
}

/** `host:port`, an IPv6 host in brackets. */
export function formatListenAddress(address: ListenAddress): string {
  return isIPv6(address.host) ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
