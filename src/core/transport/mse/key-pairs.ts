/**
 * MSE key pairs made ahead of the dials that use them. A download's first
 * dials come in a burst when the tracker answers, and each one (a peer's TCP
 * and uTP attempts each) starts with a Diffie-Hellman key pair: ~0.5-1 ms of
 * BigInt arithmetic on the main thread, several milliseconds for the burst,
 * between the tracker's answer and the first handshake. Made while the
 * announce is out (`prepare`), they cost nothing on that path.
 *
 * Every pair is handed out once and never again. MSE exists to make a
 * connection look like random bytes to whoever watches the wire (it never
 * authenticates anyone); a public key sent on two connections is the same 96
 * bytes at the start of both, which links them and gives a filter something
 * to match, and two connections whose sides both reused their keys would share
 * the RC4 keystream (the secret and SKEY alike), so one connection's known
 * plaintext would reveal the other's. A fresh pair per connection, made a
 * moment earlier, keeps all of that as it was.
 */
import { generateKeyPair, type DhKeyPair } from './diffie-hellman.ts';

export class KeyPairSupply {
  readonly #make: () => DhKeyPair;
  readonly #ready: DhKeyPair[] = [];
  /** Pairs still to be made ahead. */
  #owed = 0;
  #scheduled = false;

  constructor(make: () => DhKeyPair = generateKeyPair) {
    this.#make = make;
  }

  /** Pairs made and not yet handed out. */
  get ready(): number {
    return this.#ready.length;
  }

  /**
   * Makes pairs ahead until `count` are ready, one per turn of the event loop,
   * so that what arrives meanwhile (the tracker's answer) waits for one pair
   * at most.
   */
  prepare(count: number): void {
    this.#owed = Math.max(this.#owed, count - this.#ready.length);
    this.#schedule();
  }

  /** A pair no one has had before: one made ahead, or one made now. */
  take(): DhKeyPair {
    return this.#ready.shift() ?? this.#make();
  }

  #schedule(): void {
    if (this.#scheduled || this.#owed <= 0) return;
    this.#scheduled = true;
    // Unreferenced: pairs made ahead never keep a finished process alive.
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#owed <= 0) return;
      this.#owed--;
      this.#ready.push(this.#make());
      this.#schedule();
    }).unref();
  }
}

/** The process's supply, which every dialled MSE handshake takes from. */
export const dialKeyPairs = new KeyPairSupply();
