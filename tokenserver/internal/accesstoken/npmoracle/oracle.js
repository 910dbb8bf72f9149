// Runs npm agora-token's own builders and parsers for the Go tests (package npmoracle, beside it).
// Reads a JSON array of requests on stdin and writes a JSON array of answers, one per
// request, so one node process serves a whole test. argv[2] is the directory whose
// node_modules holds agora-token.
'use strict'
// AccessToken.fromString logs its parse errors; keep stdout for the answers.
console.log = (...a) => console.error(...a)
const path = require('path')
const mod = (p) => require(path.join(process.argv[2], 'node_modules', 'agora-token', p))
const { ConvoAITokenBuilder } = mod('src/ConvoAITokenBuilder')
const { SttTokenBuilder } = mod('src/SttTokenBuilder')
const { AccessToken2 } = mod('src/AccessToken2')
const { AccessToken } = mod('src/AccessToken')
const { RtcTokenBuilder } = mod('src/RtcTokenBuilder')
const { RtmTokenBuilder } = mod('src/RtmTokenBuilder')

// at makes the next builder call see issueTs and salt: AccessToken2 reads the clock
// through Date.prototype.getTime and draws its salt as floor(random * 99999999) + 1.
function at(issueTs, salt, build) {
    const getTime = Date.prototype.getTime
    const random = Math.random
    Date.prototype.getTime = () => issueTs * 1000
    Math.random = () => (salt - 1 + 0.5) / 99999999
    try {
        return build()
    } finally {
        Date.prototype.getTime = getTime
        Math.random = random
    }
}

const builders = { convoai: ConvoAITokenBuilder, stt: SttTokenBuilder }

function answer(q) {
    switch (q.op) {
    case 'agent': {
        // q.args are buildToken's arguments after appId and appCertificate.
        const build = () => builders[q.kind].buildToken(q.appId, q.cert, ...q.args)
        return { token: q.issueTs === undefined ? build() : at(q.issueTs, q.salt, build) }
    }
    case 'parse': {
        const t = new AccessToken2()
        const ok = t.from_string(q.token)
        return {
            ok,
            verified: ok && t.verifySignature(q.cert),
            issueTs: t.issueTs,
            salt: t.salt,
            types: t.services.map((s) => s.service_type()),
        }
    }
    case 'rtc006': {
        // RtcTokenBuilder's own call; the salt and ts it drew are read back.
        const token = RtcTokenBuilder.buildTokenWithUid(q.appId, q.cert, q.channel, q.uid, q.role, q.privilegeTs)
        return { token }
    }
    case 'rtm006':
        return { token: RtmTokenBuilder.buildToken(q.appId, q.cert, q.user, 1, q.privilegeTs) }
    case 'token006': {
        // The AccessToken class with every field chosen, privileges as [[key, expire], ...].
        const t = new AccessToken(q.appId, q.cert, q.channel, q.uid)
        t.salt = q.salt
        t.ts = q.ts
        for (const [k, v] of q.privileges) t.addPriviledge(k, v)
        return { token: t.build() }
    }
    case 'parse006': {
        const t = new AccessToken('', '', '', '')
        const ok = t.fromString(q.token)
        return { ok, appId: t.appID, salt: t.salt, ts: t.ts, crcChannel: t.crc_channel_name, crcUid: t.crc_uid, privileges: t.messages }
    }
    }
    throw new Error('unknown op ' + q.op)
}

let input = ''
process.stdin.setEncoding('utf8')
process.stdin.on('data', (c) => { input += c })
process.stdin.on('end', () => {
    process.stdout.write(JSON.stringify(JSON.parse(input).map(answer)))
})
