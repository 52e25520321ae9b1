/**
 * Shell-style globs for file paths inside a torrent, compiled to a RegExp:
 * `*` any run of characters but `/`, `**` any run including `/` (a whole
 * `**\/` also matches no directory at all), `?` one character but `/`,
 * `[abc]` / `[!abc]` / `[a-z]` one character of a set. Everything else is
 * literal. Matching is case-sensitive, as paths in a torrent are.
 */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i];
    if (char === '*') {
      if (glob[i + 1] === '*') {
        i++;
        if (glob[i + 1] === '/') {
          i++;
          source += '(?:.*/)?'; // `a/**/b` matches `a/b` too
        } else source += '.*';
      } else source += '[^/]*';
    } else if (char === '?') source += '[^/]';
    else if (char === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) source += '\\[';
      else {
        let set = glob.slice(i + 1, end);
        const negated = set.startsWith('!') || set.startsWith('^');
        if (negated) set = set.slice(1);
        // Inside a class only `\`, `]` and `^` are special; `-` keeps its range meaning.
        set = set.replace(/[\\\]^]/g, '\\$&');
        source += negated ? `[^/${set}]` : `[${set}]`;
        i = end;
      }
    } else source += char.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'u');
}

/** Whether `text` holds glob syntax, as opposed to a plain name or index list. */
export function isGlob(text: string): boolean {
  return /[*?[]/.test(text);
}
