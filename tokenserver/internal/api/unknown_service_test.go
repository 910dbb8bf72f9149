package api

import (
	"bytes"
	"compress/zlib"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// signedToken packs services (already encoded, after the service count) into a
// token of the test app signed with the test certificate, written out here from the
// layout in accesstoken/doc.go rather than by the package under test.
func signedToken(t *testing.T, count uint16, services []byte) string {
	t.Helper()
	h := func(key, msg []byte) []byte { m := hmac.New(sha256.New, key); m.Write(msg); return m.Sum(nil) }
	const issueTs, expire, salt = 2000000000, 600, 7
	content := binary.LittleEndian.AppendUint16(nil, uint16(len(testAppID)))
	content = append(content, testAppID...)
	content = binary.LittleEndian.AppendUint32(content, issueTs)
	content = binary.LittleEndian.AppendUint32(content, expire)
	content = binary.LittleEndian.AppendUint32(content, salt)
	content = binary.LittleEndian.AppendUint16(content, count)
	content = append(content, services...)
	key := h(binary.LittleEndian.AppendUint32(nil, salt), h(binary.LittleEndian.AppendUint32(nil, issueTs), []byte(testCert)))
	raw := binary.LittleEndian.AppendUint16(nil, sha256.Size)
	raw = append(append(raw, h(key, content)...), content...)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(raw)
	zw.Close()
	return "007" + base64.StdEncoding.EncodeToString(z.Bytes())
}

// A service type this server does not know is shown as "unknown service type N"
// with the count of bytes after it, the services declared after it are counted,
// and the signature still verifies; a token declaring more services than any real
// one is a 400 that says so, where it once inflated into a 400 KB answer.
func TestInspectShowsUnknownServicesAndRefusesTooMany(t *testing.T) {
	srv := newTestServer(t, newTestAPI(t, nil))
	inspect := func(tok string) answer {
		body, _ := json.Marshal(map[string]string{"token": tok})
		return do(t, srv, call{method: "POST", path: "/v1/tokens/inspect", contentType: js, body: string(body)})
	}

	rtm := []byte{2, 0, 1, 0, 1, 0, 0x58, 2, 0, 0, 3, 0, 'b', 'o', 'b'} // RTM, login 600 s, "bob"
	unknown := append(append([]byte{}, rtm...), 42, 0, 9, 9, 9, 9, 9)   // type 42, then 5 bytes
	ans := inspect(signedToken(t, 4, unknown))
	if ans.status != http.StatusOK {
		t.Fatalf("inspect: %d %s", ans.status, ans.body)
	}
	var in struct {
		Services []struct {
			Type        uint16 `json:"type"`
			Name        string `json:"name"`
			UnreadBytes int    `json:"unreadBytes"`
		} `json:"services"`
		UnreadServices int  `json:"unreadServices"`
		SignatureValid bool `json:"signatureValid"`
	}
	if err := json.Unmarshal(ans.body, &in); err != nil {
		t.Fatal(err)
	}
	if len(in.Services) != 2 || in.Services[0].Name != "rtm" || in.Services[1].Type != 42 ||
		in.Services[1].Name != "unknown service type 42" || in.Services[1].UnreadBytes != 5 ||
		in.UnreadServices != 2 || !in.SignatureValid {
		t.Errorf("inspected %s", ans.body)
	}

	empty := bytes.Repeat([]byte{2, 0, 0, 0, 0, 0}, 10000) // 10,000 RTM services, no privileges, user ""
	hostile := signedToken(t, 10000, empty)
	ans = inspect(hostile)
	p := problemOf(t, ans, http.StatusBadRequest)
	if len(p.InvalidParams) != 1 || p.InvalidParams[0].Name != "token" ||
		!strings.Contains(p.InvalidParams[0].Reason, "10000 services, more than the 16 a token may hold") {
		t.Errorf("a %d-character token of 10,000 services: %s", len(hostile), ans.body)
	}
	if len(ans.body) > 1024 {
		t.Errorf("the refusal is %d bytes", len(ans.body))
	}
}
