/**
 * Property tests of magnet links and bare info-hashes (magnet.ts). See
 * test/helpers/fuzz.ts for FUZZ_RUNS / FUZZ_SEED.
 *
 * toMagnet writes xt (btih as hex, btmh), dn, tr and ws; parseMagnet also
 * reads x.pe and so, base32 btih, numbered keys (tr.1) and `+` for space in
 * dn, and ignores other parameters. Canonical form: for an accepted link x,
 * toMagnet(parseMagnet(x)) parses to the same hashes, name, trackers and web
 * seeds (peers and file selection have no spelling in toMagnet), and that
 * link is a fixpoint of parse-then-write. Every rejection is an InputError.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { InputError } from '../../../src/core/errors.ts';
import {
  parseInfoHashOrMagnet,
  parseMagnet,
  toMagnet,
  type MagnetLink,
  type MagnetSource,
} from '../../../src/core/metainfo/magnet.ts';
import { applyEdits, fuzzIt } from '../../helpers/fuzz.ts';

const hash = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const text = fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' });
const url = fc.oneof(
  fc.webUrl(),
  fc.constantFrom('udp://127.0.0.1:6969/announce', 'http://t/a?x=1&y=2', 'http://t/a+b'),
);

const arbSource: fc.Arbitrary<MagnetSource> = fc
  .record({
    infoHash: fc.option(hash(20)),
    infoHashV2: fc.option(hash(32)),
    name: fc.option(text),
    trackers: fc.uniqueArray(url, { maxLength: 3 }),
    webSeeds: fc.uniqueArray(url, { maxLength: 3 }),
  })
  .filter((s) => s.infoHash !== null || s.infoHashV2 !== null)
  .map((s) => ({ ...s, trackers: s.trackers.map((t) => [t]) }));

/** What toMagnet can express of a parsed link. */
function expressible(link: MagnetLink): MagnetSource {
  const { infoHash, infoHashV2, name, trackers, webSeeds } = link;
  return { infoHash, infoHashV2, name, trackers, webSeeds };
}

/** Links as people and other clients write them: extra and odd parameters appended. */
const arbLink = fc
  .tuple(
    arbSource.map(toMagnet),
    fc.array(
      fc.constantFrom(
        'x.pe=127.0.0.1:6881',
        'x.pe=[::1]:1',
        'so=0,2,4-6',
        'tr.1=udp%3A%2F%2Ft%3A1',
        'dn=a+b%20c',
        'dn=',
        'xt=urn:btih:MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U',
        'xt=urn:sha1:abc',
        'xl=10',
        'ws=',
        '',
        'kt=a%ZZ',
      ),
      { maxLength: 3 },
    ),
  )
  .map(([link, extra]) => [link, ...extra].join('&'));

const arbEdit = fc.array(
  fc.record({
    kind: fc.constantFrom('set', 'insert', 'delete', 'truncate'),
    at: fc.nat(),
    byte: fc.constantFrom(...Buffer.from('%&=:+.,-[]0aZ7 \n', 'latin1')),
  }),
  { maxLength: 3 },
);

describe('magnet link properties', () => {
  it('regression: an empty dn is no name, as toMagnet writes it', () => {
    // Found by the fixpoint property below: `dn=` gave the name '', which toMagnet leaves out,
    // so the re-written link parsed to name null.
    const link = parseMagnet(`magnet:?xt=urn:btih:${'00'.repeat(20)}&dn=`);
    expect(link.name).toBeNull();
    expect(parseMagnet(toMagnet(link)).name).toBeNull();
  });

  fuzzIt(
    "round-trips: parseMagnet(toMagnet(s)) has s's hashes, name, trackers and web seeds",
    fc.property(arbSource, (source) => {
      const link = parseMagnet(toMagnet(source));
      expect(expressible(link)).toEqual(source);
      expect(link.peers).toEqual([]);
      expect(link.selectOnly).toBeNull();
    }),
  );

  fuzzIt(
    'anything accepted re-writes to a link that parses the same, and that link is a fixpoint',
    fc.property(arbLink, arbEdit, (link, edits) => {
      const uri = Buffer.from(applyEdits(Buffer.from(link, 'latin1'), edits)).toString('latin1');
      let parsed: MagnetLink;
      try {
        parsed = parseInfoHashOrMagnet(uri);
      } catch (error) {
        expect(error).toBeInstanceOf(InputError);
        return;
      }
      const canonical = toMagnet(parsed);
      expect(expressible(parseMagnet(canonical))).toEqual(expressible(parsed));
      expect(toMagnet(parseMagnet(canonical))).toBe(canonical);
    }),
  );
});
