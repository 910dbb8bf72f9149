// Package accesstoken mints and checks Agora AccessToken2 tokens (version "007"),
// byte-identical to Agora's reference Go builder for the same inputs, and reads the
// older AccessToken (version "006").
//
// A token is "007" + base64(zlib(packString(signature) + content)), where packString
// is a little-endian uint16 length followed by the bytes, and content is
//
//	packString(appId) | issueTs u32 | expire u32 | salt u32 | service count u16 |
//	services, each: type u16 | privilege count u16 | (privilege u16, expire u32)* |
//	type-specific fields
//
// All integers are little-endian; expiries are seconds after issueTs. Agora's builders
// write services in ascending type order and privileges in ascending order; Agora's
// current reference may write a type more than once, so [Parse] keeps the services in
// the order they come, repeats included, and sorts each service's privileges.
//
// The ten service types, their privileges and type-specific fields (the reference's
// field names in brackets; [Service] holds them as Channel, UserID, APaaSRole and
// Permissions):
//
//	1 RTC        joinChannel 1, publishAudioStream 2, publishVideoStream 3, publishDataStream 4
//	             packString(channel [ChannelName]) | packString(account [Uid]; "" is uid 0)
//	2 RTM        login 1; packString(user ID [UserId])
//	3 Streaming  publishMixStream 1, publishRawStream 2
//	             packString(channel [ChannelName]) | packString(account [Account])
//	4 FPA        login 1; no fields
//	5 Chat       user 1, app 2; packString(user ID [UserId]) ("" for an app token)
//	6 FCDN       publish 1, play 2
//	             packString(channel [ChannelName]) | packString(account [Account])
//	7 aPaaS      roomUser 1, user 2, app 3
//	             packString(room UUID [RoomUuid]) | packString(user UUID [UserUuid]) | role i16 [Role]
//	8 RTM2       login 1; packString(user ID [UserId]) | permissions [Permissions]:
//	             resource count u16 | resources, each:
//	               resource type u16 | list count u16 | lists, each:
//	                 permission type u16 | name count u16 | packString(name)*
//	9 ConvoAI    no privileges, no fields
//	10 STT       no privileges, no fields
//
// RTM2 resource types are 0 messageChannels, 1 streamChannels, 2 groupChannels,
// 3 serverGroups, 4 users; permission types are 0 read and 1 write. The reference
// writes resource types ascending and, within one, read before write; names may be
// wildcards such as "room-*". Agora enables RTM2 permissions on a project only on
// request. [Minter.SignalingWithPermissions] limits a token to [MaxPermissionNames] names
// per list and [MaxPermissionBytes] bytes of names in all, each name 1-64 bytes of
// printable ASCII, so that the token stays a few kilobytes at most.
//
// A service's length is known only from its type, so [Parse] stops at a type it does
// not know, as npm agora-token's parser does: it reports that service (its String is
// "unknown service type N") with every byte after its type in [Service.Unread], and
// [Token.Verify] still checks the signature, which covers them. A token may declare
// at most [MaxServices] services and a service hold at most [MaxPrivileges]
// privileges; real ones hold at most 3 and 4.
//
// ConvoAI and STT tokens ([Minter.ConvoAI], [Minter.STT]) are what npm agora-token
// 2.0.6's ConvoAITokenBuilder and SttTokenBuilder write: RTC with per-privilege
// lifetimes, RTM, then the empty ConvoAI or STT service. Node compresses with its own
// zlib, so the strings differ from ours; the bytes under the zlib are identical.
//
// The signature is HMAC-SHA256(signingKey, content) with
// signingKey = HMAC-SHA256(key=u32le(salt), HMAC-SHA256(key=u32le(issueTs), appCertificate)),
// so a token can only be checked by someone who holds the App Certificate.
//
// A 006 token ([Parse006]) is not compressed and carries times as absolute Unix
// seconds:
//
//	"006" | appId (32 characters) | base64(packString(signature) | crc32(channel) u32 |
//	crc32(user) u32 | packString(message))
//	message: salt u32 | ts u32 (when the token expires) | privilege count u16 |
//	         (privilege u16, expire u32 Unix time, 0 for none)*
//
// with privileges joinChannel 1, publishAudioStream 2, publishVideoStream 3,
// publishDataStream 4 and rtmLogin 1000 (an RTM token has the user ID as its channel
// and "" as its user). The signature is HMAC-SHA256(key=appCertificate, appId |
// channel | user | message), so checking it needs the channel and user as well.
//
// Tokens are compressed by package zlibexact, which writes exactly the bytes compress/zlib
// writes at the default level (as the reference does) at a fraction of the cost.
//
// A [Minter] holds one app's credentials and is safe for concurrent use; [Parse] decodes
// any "007" string and [Parse006] any "006" one without ever panicking; [Token.Verify]
// and [Token006.Verify] check signatures in constant time. The package imports only the standard library and zlibexact.
package accesstoken
