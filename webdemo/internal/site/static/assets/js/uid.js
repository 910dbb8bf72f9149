// The Signaling user ID rules, the same as the token server's: 1-64 printable ASCII
// characters (0x20-0x7e). Like the server, it reports the first rule broken, in the
// server's words, which are meant for whoever typed the ID: characters, not bytes.
const ALLOWED = 'may use only English letters, digits, spaces and ASCII punctuation';

// describeChar names a character that is not allowed, as the server does: quoted when it
// can be shown, by name or code point when it is a control character.
function describeChar(ch) {
  const c = ch.codePointAt(0);
  if (ch === '\t') return 'a tab';
  if (ch === '\n' || ch === '\r') return 'a line break';
  if (c < 0x20 || c === 0x7f || (c >= 0x80 && c < 0xa0)) {
    return `the control character U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return `'${ch}'`;
}

export function userIdProblems(uid) {
  let position = 0;
  for (const ch of uid) {
    position++;
    const c = ch.codePointAt(0);
    if (c < 0x20 || c > 0x7e) {
      return [`${ALLOWED}; ${describeChar(ch)} (character ${position}) is not allowed`];
    }
  }
  if (uid.length < 1 || uid.length > 64) {
    return [`must be 1-64 characters long (got ${uid.length})`];
  }
  return [];
}
