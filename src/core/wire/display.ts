/**
 * Peers choose their client names and peer ids; both end up on the user's
 * terminal. Strip anything that could move the cursor, recolour the screen or
 * reorder text (C0/C1 controls, DEL, bidi overrides) and bound the length.
 */

// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufffd]/g;

export function displaySafe(text: string, maxLength = 64): string {
  const cleaned = text.replace(UNSAFE, '').trim();
  const chars = Array.from(cleaned); // code points, so a cut never splits a surrogate pair
  // Trimmed again after the cut, so cleaning the result again changes nothing.
  return chars.length > maxLength ? chars.slice(0, maxLength).join('').trimEnd() : cleaned;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Bytes from a peer as display text (invalid UTF-8 becomes nothing, not garbage). */
export function displayBytes(bytes: Uint8Array, maxLength = 64): string {
  return displaySafe(utf8.decode(bytes), maxLength);
}
