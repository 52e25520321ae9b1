/**
 * HTTP proxies from the environment: which proxy (if any) a request to a URL
 * goes through, and the agents that carry requests through it.
 *
 * - `http_proxy`/`HTTP_PROXY` for http:// targets, `https_proxy`/`HTTPS_PROXY`
 *   for https:// targets; the lower-case name wins, as in curl, wget and
 *   Python (some CGI servers set `HTTP_PROXY` from a request header).
 * - `no_proxy`/`NO_PROXY`: comma- or space-separated `*`, host names (a name
 *   matches itself and its subdomains; a leading `.` or `*.` is ignored),
 *   IP addresses, CIDR blocks (`10.0.0.0/8`), each optionally with `:port`.
 * - Only `http://` proxies are supported (`https://` is accepted but spoken
 *   to in plain HTTP would be wrong, so it is refused, like socks).
 *
 * An http:// target is sent to the proxy as a forward request (absolute URL
 * in the request line); an https:// target goes through a CONNECT tunnel, and
 * TLS runs end to end with the origin, so the proxy sees only the host name.
 */
import http from 'node:http';
import type https from 'node:https';
import { BlockList, isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type tls from 'node:tls';

export interface NoProxyRule {
  /** Lower-case host name without a leading dot, an IP address, or null for a CIDR rule. */
  host: string | null;
  cidr: BlockList | null;
  /** Only this port, or null for any. */
  port: number | null;
}

export interface ProxySettings {
  http: URL | null;
  https: URL | null;
  /** `*` in NO_PROXY: no proxy for anything. */
  bypassAll: boolean;
  noProxy: NoProxyRule[];
}

/** A proxy setting that cannot be used (bad URL, unsupported scheme). */
export class ProxyConfigError extends Error {}

function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name.toLowerCase()] ?? env[name.toUpperCase()];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function parseProxyUrl(name: string, value: string | undefined): URL | null {
  if (value === undefined) return null;
  // curl accepts "host:port" without a scheme and means http.
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ProxyConfigError(`${name} is not a valid URL: ${value}`);
  }
  if (url.protocol !== 'http:') {
    throw new ProxyConfigError(`${name}: only http:// proxies are supported, not ${url.protocol}`);
  }
  return url;
}

function parseNoProxyEntry(entry: string): NoProxyRule | null {
  let text = entry.trim().toLowerCase();
  if (text === '') return null;
  let port: number | null = null;
  // A port is ":digits" at the end, except inside an IPv6 address without brackets.
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) {
    text = bracketed[1]!;
    port = bracketed[2] === undefined ? null : Number(bracketed[2]);
  } else if (isIP(text.split('/')[0]!) !== 6) {
    const withPort = /^(.*):(\d+)$/.exec(text);
    if (withPort) {
      text = withPort[1]!;
      port = Number(withPort[2]);
    }
  }
  const slash = text.indexOf('/');
  if (slash > 0) {
    const address = text.slice(0, slash);
    const bits = Number(text.slice(slash + 1));
    const family = isIP(address);
    if (family === 0 || !Number.isInteger(bits)) return null;
    const cidr = new BlockList();
    try {
      cidr.addSubnet(address, bits, family === 4 ? 'ipv4' : 'ipv6');
    } catch {
      return null;
    }
    return { host: null, cidr, port };
  }
  text = text.replace(/^\*?\./, '');
  return text === '' ? null : { host: text, cidr: null, port };
}

/** Reads the proxy variables; throws ProxyConfigError for a proxy URL that cannot be used. */
export function proxySettingsFromEnv(env: NodeJS.ProcessEnv = process.env): ProxySettings {
  const noProxy = envValue(env, 'no_proxy') ?? '';
  const entries = noProxy.split(/[\s,]+/);
  return {
    http: parseProxyUrl('http_proxy', envValue(env, 'http_proxy')),
    https: parseProxyUrl('https_proxy', envValue(env, 'https_proxy')),
    bypassAll: entries.some((entry) => entry.trim() === '*'),
    noProxy: entries.map(parseNoProxyEntry).filter((rule) => rule !== null),
  };
}

function defaultPort(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

function bareHost(url: URL): string {
  const host = url.hostname.toLowerCase();
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

function ruleMatches(rule: NoProxyRule, host: string, port: number): boolean {
  if (rule.port !== null && rule.port !== port) return false;
  if (rule.cidr !== null) {
    const family = isIP(host);
    return family !== 0 && rule.cidr.check(host, family === 4 ? 'ipv4' : 'ipv6');
  }
  return host === rule.host || host.endsWith(`.${rule.host}`);
}

/** The proxy a request to `target` goes through, or null to connect directly. */
export function proxyFor(target: URL, settings: ProxySettings): URL | null {
  const proxy =
    target.protocol === 'http:'
      ? settings.http
      : target.protocol === 'https:'
        ? settings.https
        : null;
  if (proxy === null || settings.bypassAll) return null;
  const host = bareHost(target);
  const port = defaultPort(target);
  return settings.noProxy.some((rule) => ruleMatches(rule, host, port)) ? null : proxy;
}

/** `Proxy-Authorization` for a proxy URL with user:password, else nothing. */
export function proxyAuthHeaders(proxy: URL): Record<string, string> {
  if (proxy.username === '' && proxy.password === '') return {};
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { 'Proxy-Authorization': `Basic ${Buffer.from(credentials).toString('base64')}` };
}

export interface AgentOptions {
  keepAlive: boolean;
  maxSockets: number;
  /** Extra trusted certificates for HTTPS origins (tests; private mirrors). */
  ca?: string | Buffer | (string | Buffer)[];
  /** Milliseconds allowed for the CONNECT exchange with the proxy. */
  connectTimeoutMs?: number;
}

/**
 * An https.Agent whose connections are CONNECT tunnels through `proxy`. The
 * agent pools the TLS sockets over the tunnels like any other, so keep-alive
 * works through the proxy too. The class is made at its first use: node:https
 * and node:tls load only when an https:// URL is fetched (see guarded-get.ts).
 */
const tunnelingAgentClass = (Agent: typeof https.Agent) =>
  class TunnelingAgent extends Agent {
    readonly proxy: URL;
    readonly #connectTimeoutMs: number;

    constructor(proxy: URL, options: AgentOptions) {
      super({ keepAlive: options.keepAlive, maxSockets: options.maxSockets, ca: options.ca });
      this.proxy = proxy;
      this.#connectTimeoutMs = options.connectTimeoutMs ?? 15_000;
    }

    override createConnection(
      options: http.ClientRequestArgs,
      callback?: (err: Error | null, stream: Duplex) => void,
    ): Duplex | null | undefined {
      const done = callback ?? (() => undefined);
      const host = options.host ?? options.hostname ?? 'localhost';
      const port = Number(options.port ?? 443);
      const authority = isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
      const connect = http.request({
        host: bareHost(this.proxy),
        port: defaultPort(this.proxy),
        method: 'CONNECT',
        path: authority,
        agent: false,
        headers: { Host: authority, ...proxyAuthHeaders(this.proxy) },
        timeout: this.#connectTimeoutMs,
      });
      let answered = false;
      connect.on('timeout', () => connect.destroy(new Error('proxy did not answer CONNECT')));
      connect.on('error', (error) => {
        if (!answered) {
          answered = true;
          done(error, undefined as unknown as Duplex);
        }
      });
      connect.on('connect', (response: http.IncomingMessage, socket: Socket) => {
        answered = true;
        if (response.statusCode !== 200) {
          socket.destroy();
          done(
            new Error(`proxy refused CONNECT ${authority}: HTTP ${response.statusCode}`),
            undefined as unknown as Duplex,
          );
          return;
        }
        // Only the TLS settings are passed on: the request's own options carry a
        // `path` (the URL path) that tls.connect would take for a socket file.
        const settings = options as tls.ConnectionOptions;
        const secure = process.getBuiltinModule('node:tls').connect({
          socket,
          // `host` names the identity the certificate must prove (no connection is made to it).
          host,
          servername: isIP(host) === 0 ? host : undefined,
          ca: settings.ca,
          rejectUnauthorized: settings.rejectUnauthorized,
          ALPNProtocols: ['http/1.1'],
        });
        done(null, secure);
      });
      connect.end();
      return undefined;
    }
  };

let tunnelingAgent: ReturnType<typeof tunnelingAgentClass> | null = null;

function createTunnelingAgent(proxy: URL, options: AgentOptions): https.Agent {
  tunnelingAgent ??= tunnelingAgentClass(process.getBuiltinModule('node:https').Agent);
  return new tunnelingAgent(proxy, options);
}

/**
 * An agent and the request options that send a request for `target`
 * directly (proxy null) or through `proxy`. `agentFor` caches agents by the
 * key returned, so callers keep one per server and reuse connections.
 */
export function proxiedRequest(
  target: URL,
  proxy: URL | null,
): { agentKey: string; options: http.RequestOptions; secure: boolean } {
  const host = bareHost(target);
  const port = defaultPort(target);
  if (proxy === null) {
    return {
      agentKey: `${target.protocol}//${target.host}`,
      options: { host, port, path: `${target.pathname}${target.search}` },
      secure: target.protocol === 'https:',
    };
  }
  if (target.protocol === 'https:') {
    return {
      agentKey: `tunnel ${proxy.href} ${target.host}`,
      options: { host, port, path: `${target.pathname}${target.search}` },
      secure: true,
    };
  }
  // A forward request: the request line carries the whole URL, the proxy connects.
  return {
    agentKey: `forward ${proxy.href}`,
    options: {
      host: bareHost(proxy),
      port: defaultPort(proxy),
      path: target.href.replace(/#.*$/, ''),
      headers: { Host: target.host, ...proxyAuthHeaders(proxy) },
    },
    secure: false,
  };
}

/** A new agent for requests described by proxiedRequest(target, proxy). */
export function createAgent(target: URL, proxy: URL | null, options: AgentOptions): http.Agent {
  const base = { keepAlive: options.keepAlive, maxSockets: options.maxSockets };
  if (proxy !== null && target.protocol === 'https:') return createTunnelingAgent(proxy, options);
  if (proxy === null && target.protocol === 'https:') {
    return new (process.getBuiltinModule('node:https').Agent)({ ...base, ca: options.ca });
  }
  return new http.Agent(base);
}
