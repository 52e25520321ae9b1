// The parts of bittorrent-dht 11 that shoal uses (the package ships no types).
declare module 'bittorrent-dht' {
  import { EventEmitter } from 'node:events';

  export interface DhtNode {
    host: string;
    port: number;
    id?: Buffer | Uint8Array | string;
  }

  export interface DhtOptions {
    /** Node id (20 bytes or 40 hex); random when absent. */
    nodeId?: Buffer | Uint8Array | string;
    /** `false` for none, `true`/absent for the library's routers, or a list of `host:port` / nodes. */
    bootstrap?: boolean | (string | DhtNode)[];
    /** Our public address, to store ourselves as a peer when announcing. */
    host?: string | false;
    concurrency?: number;
    timeBucketOutdated?: number;
    maxAge?: number;
    /** BEP 44 signature check for mutable items (ed25519); without it they are ignored and refused. */
    verify?: (signature: Buffer, data: Buffer, publicKey: Buffer) => boolean;
  }

  /** A BEP 44 mutable put (`k` set) or an immutable one. */
  export interface DhtPutOptions {
    v: unknown;
    /** ed25519 public key, 32 bytes. */
    k?: Buffer;
    seq?: number;
    salt?: Buffer;
    /** Compare-and-swap: only replace the item whose seq is this. */
    cas?: number;
    sign?: (data: Buffer) => Buffer;
  }

  /** What `get` found: the verified item with the highest seq. */
  export interface DhtGetResult {
    v: unknown;
    k?: Buffer;
    seq?: number;
    sig?: Buffer;
    salt?: Buffer;
    id?: Buffer;
  }

  export default class DHT extends EventEmitter {
    constructor(options?: DhtOptions);
    readonly nodeId: Buffer;
    readonly listening: boolean;
    readonly destroyed: boolean;
    readonly ready: boolean;
    readonly nodes: { toArray(): DhtNode[]; count(): number };
    listen(port?: number, address?: string, onListening?: () => void): void;
    listen(port?: number, onListening?: () => void): void;
    address(): { address: string; family: string; port: number };
    addNode(node: DhtNode): void;
    removeNode(id: Buffer | Uint8Array | string): void;
    /** Returns a function that stops further 'peer' events from this lookup. */
    lookup(
      infoHash: Buffer | Uint8Array | string,
      callback?: (error: Error | null, nodes?: number) => void,
    ): () => void;
    announce(
      infoHash: Buffer | Uint8Array | string,
      port?: number,
      callback?: (error: Error | null) => void,
    ): void;
    /** Stores an item on the closest nodes; `nodes` counts those that accepted. Returns the target. */
    put(
      options: DhtPutOptions,
      callback?: (error: Error | null, target: Buffer, nodes?: number) => void,
    ): Buffer;
    /** Looks an item up by target (SHA-1 of k + salt for mutable items); null when none was found. */
    get(
      target: Buffer | Uint8Array | string,
      options: { salt?: Buffer; cache?: boolean },
      callback: (error: Error | null, result: DhtGetResult | null) => void,
    ): void;
    toJSON(): { nodes: { host: string; port: number }[]; values: Record<string, unknown> };
    destroy(callback?: () => void): void;

    on(
      event: 'peer',
      listener: (
        peer: { host: string; port: number },
        infoHash: Buffer,
        from: { host: string; port: number } | null,
      ) => void,
    ): this;
    on(event: 'ready' | 'listening' | 'close', listener: () => void): this;
    on(event: 'node', listener: (node: DhtNode) => void): this;
    on(event: 'error' | 'warning', listener: (error: Error) => void): this;
    on(
      event: 'announce',
      listener: (peer: { host: string; port: number }, infoHash: Buffer) => void,
    ): this;
  }
}
