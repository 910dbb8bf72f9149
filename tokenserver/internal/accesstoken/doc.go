// Package accesstoken mints and checks Agora AccessToken2 tokens (version "007"),
// byte-identical to Agora's reference Go builder for the same inputs.
//
// A token is "007" + base64(zlib(packString(signature) + content)), where packString
// is a little-endian uint16 length followed by the bytes, and content is
//
//	packString(appId) | issueTs u32 | expire u32 | salt u32 | service count u16 |
//	services in ascending type order, each: type u16 | privilege count u16 |
//	(privilege u16, expire u32)* ascending | type-specific strings
//
// (RTC: channel, account; RTM and Chat: user ID). Expiries are seconds after issueTs.
// The signature is HMAC-SHA256(signingKey, content) with
// signingKey = HMAC-SHA256(key=u32le(salt), HMAC-SHA256(key=u32le(issueTs), appCertificate)),
// so a token can only be checked by someone who holds the App Certificate.
//
// Tokens are compressed by deflate.go, which writes exactly the bytes compress/zlib
// writes at the default level (as the reference does) at a fraction of the cost.
//
// A [Minter] holds one app's credentials and is safe for concurrent use; [Parse] decodes
// any "007" string without ever panicking and [Token.Verify] checks its signature in
// constant time.
package accesstoken
