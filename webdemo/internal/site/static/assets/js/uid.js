// The Signaling user ID rules, the same as the token server's: 1-64 bytes of printable
// ASCII (0x20-0x7e). Like the server, it reports the first rule broken, in the server's
// words, so the page and the server explain a bad ID the same way.
const encoder = new TextEncoder();

export function userIdProblems(uid) {
  const bytes = encoder.encode(uid);
  if (bytes.length < 1 || bytes.length > 64) {
    return [`must be 1-64 bytes (got ${bytes.length})`];
  }
  const at = bytes.findIndex((b) => b < 0x20 || b > 0x7e);
  if (at >= 0) {
    return [`must be printable ASCII (byte 0x${bytes[at].toString(16).padStart(2, '0')} at offset ${at})`];
  }
  return [];
}
