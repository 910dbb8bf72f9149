// Reads the public fields of an Agora AccessToken2 ("007" + base64(zlib(signature +
// content))). The page needs the App ID inside it when none is configured, and the
// issue time and lifetime for the countdown. It does not verify the signature: only
// the token server (with the App Certificate) and Agora can.

const MAX_INFLATED = 64 * 1024; // real tokens inflate to a few hundred bytes

const SERVICE_RTC = 1;
const SERVICE_RTM = 2;
const SERVICE_CHAT = 5;

export async function decodeToken(token) {
  if (typeof token !== 'string' || !token.startsWith('007')) {
    throw new Error('not an AccessToken2 token (it does not start with "007")');
  }
  let raw;
  try {
    raw = Uint8Array.from(atob(token.slice(3).replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  } catch {
    throw new Error('the token is not valid base64');
  }
  const body = await inflate(raw);
  const r = new Reader(body);
  r.bytes(); // signature
  const appId = r.string();
  const issuedAt = r.u32();
  const expire = r.u32();
  r.u32(); // salt
  const services = r.u16();
  let rtmUserId = '';
  for (let i = 0; i < services; i++) {
    const type = r.u16();
    const privileges = r.u16();
    for (let p = 0; p < privileges; p++) {
      r.u16();
      r.u32();
    }
    if (type === SERVICE_RTM) {
      rtmUserId = r.string();
    } else if (type === SERVICE_RTC) {
      r.string();
      r.string();
    } else if (type === SERVICE_CHAT) {
      r.string();
    } else {
      break; // an unknown service's layout is unknown: stop, what we have is enough
    }
  }
  return {
    appId,
    rtmUserId,
    issuedAt: new Date(issuedAt * 1000),
    expiresAt: new Date((issuedAt + expire) * 1000),
  };
}

async function inflate(raw) {
  let stream;
  try {
    stream = new Blob([raw]).stream().pipeThrough(new DecompressionStream('deflate'));
  } catch {
    throw new Error('this browser cannot inflate zlib data (DecompressionStream)');
  }
  const reader = stream.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    let step;
    try {
      step = await reader.read();
    } catch (err) {
      throw new Error(`the token is not zlib data (${err.message})`);
    }
    if (step.done) break;
    size += step.value.length;
    if (size > MAX_INFLATED) {
      reader.cancel().catch(() => {});
      throw new Error('the token inflates to more than 64 KiB');
    }
    chunks.push(step.value);
  }
  const out = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

// Reader reads AccessToken2's little-endian packing: uint16/uint32, and strings as a
// uint16 length followed by the bytes.
class Reader {
  constructor(buf) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.off = 0;
  }
  need(n) {
    if (this.off + n > this.buf.length) throw new Error('the token is truncated');
  }
  u16() {
    this.need(2);
    const v = this.view.getUint16(this.off, true);
    this.off += 2;
    return v;
  }
  u32() {
    this.need(4);
    const v = this.view.getUint32(this.off, true);
    this.off += 4;
    return v;
  }
  bytes() {
    const n = this.u16();
    this.need(n);
    const v = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return v;
  }
  string() {
    return new TextDecoder().decode(this.bytes());
  }
}
