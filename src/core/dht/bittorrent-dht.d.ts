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
