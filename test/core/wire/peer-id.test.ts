import { describe, expect, it } from 'vitest';
import {
  describePeerId,
  generatePeerId,
  parsePeerId,
  peerIdPrefix,
} from '../../../src/core/wire/peer-id.ts';

const id = (prefix: string) => {
  const out = new Uint8Array(20).fill(0x41);
  out.set(new TextEncoder().encode(prefix));
  return out;
};

describe('peer ids', () => {
  it('generates -SH0100- plus 12 random alphanumerics', () => {
    const a = generatePeerId();
    const b = generatePeerId();
    expect(a.length).toBe(20);
    const s = Buffer.from(a).toString('latin1');
    expect(s).toMatch(/^-SH0100-[0-9A-Za-z]{12}$/);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(peerIdPrefix('1.12.3')).toBe('-SH1C30-');
  });

  it('draws characters from the random source deterministically', () => {
    const zeros = generatePeerId('-SH0100-', (n) => new Uint8Array(n));
    expect(Buffer.from(zeros).toString('latin1')).toBe('-SH0100-000000000000');
    // 248 and above are rejected (they would bias the alphabet); 61 maps to 'Z'.
    let calls = 0;
    const biased = generatePeerId('-SH0100-', (n) =>
      new Uint8Array(n).fill(calls++ === 0 ? 255 : 61),
    );
    expect(Buffer.from(biased).toString('latin1')).toBe('-SH0100-ZZZZZZZZZZZZ');
  });

  it('names common clients', () => {
    const cases: [string, string][] = [
      ['-LT2080-', 'libtorrent 2.0.8'],
      ['-lt0D80-', 'rTorrent 0.13.8'],
      ['-qB4630-', 'qBittorrent 4.6.3'],
      ['-TR2940-', 'Transmission 2.94'],
      ['-TR300Z-', 'Transmission 3.00+'],
      ['-TR4060-', 'Transmission 4.0.6'],
      ['-DE2110-', 'Deluge 2.1.1'],
      ['-WW0208-', 'WebTorrent 0.2.0.8'],
      ['-UT355W-', 'µTorrent 3.5.5'],
      ['-BC0152-', 'BitComet 0.1.5.2'],
      ['-SH0100-', 'shoal 0.1.0'],
      ['A2-1-37-0-', 'aria2 1.37.0'],
      ['-ZZ1234-', 'unknown client ZZ 1.2.3.4'],
    ];
    for (const [prefix, expected] of cases)
      expect(describePeerId(id(prefix)), prefix).toBe(expected);
    expect(parsePeerId(id('A2-1-37-0-'))).toEqual({ client: 'aria2', version: '1.37.0' });
  });

  it('falls back to safe text or hex for unknown ids', () => {
    expect(describePeerId(new TextEncoder().encode('M7-2-3--abcdefghijkl'))).toBe(
      'unknown (M7-2-3--abcdefghijkl)',
    );
    const binary = Uint8Array.from({ length: 20 }, (_, i) => (i === 0 ? 0x1b : i));
    expect(describePeerId(binary)).toBe(
      `unknown (1b${Buffer.from(binary.subarray(1)).toString('hex')})`,
    );
    expect(parsePeerId(binary)).toEqual({ client: null, version: null });
  });
});
