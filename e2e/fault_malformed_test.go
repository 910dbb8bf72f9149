package e2e

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
)

// Hostile HTTP against both programs: every message gets a definite answer with the
// status that names the problem, nothing panics, and the program keeps serving tokens.
func TestFaultHostileHTTPGetsAClearAnswerAndTheServerKeepsServing(t *testing.T) {
	token := faultStartToken(t)
	// The proxy's own body limit is lower than the token server's, so its 413 is its own.
	proxy := faultStartProxy(t, token.url(), "--max_body_bytes", "4096")

	const get = "GET /rtm/alice/ HTTP/1.1\r\nHost: x\r\nOrigin: " + faultOrigin + "\r\n"
	const post = "POST /v1/tokens HTTP/1.1\r\nHost: x\r\nOrigin: " + faultOrigin + "\r\nContent-Type: application/json\r\n"
	bigBody := `{"type":"signaling","uid":"` + strings.Repeat("a", 20000) + `"}`
	chunk := func(s string) string { return strconv.FormatInt(int64(len(s)), 16) + "\r\n" + s + "\r\n" }

	tests := []struct {
		name       string
		raw        string
		closeWrite bool // the client stops sending after raw
		status     int
	}{
		// A client that stops sending may also have left: the answer is the status, or the
		// connection closed without one; never a success.
		{"raw binary garbage is a 400", "\x00\x01\x02\xff\xfe garbage\r\n\r\n", false, 400},
		{"a request line without a method, target and version is a 400", "\r\n\r\n", false, 400},
		{"a request line without an HTTP version is a 400", "GET /rtm/alice/\r\nHost: x\r\n\r\n", false, 400},
		{"a request line with an unknown protocol is a 400", "GET /rtm/alice/ HTTX/1.1\r\nHost: x\r\n\r\n", false, 400},
		{"HTTP/2.0 in an HTTP/1 request line is refused", "GET /rtm/alice/ HTTP/2.0\r\nHost: x\r\n\r\n", false, 505},
		{"a header line without a colon is a 400", get + "NoColonHere\r\n\r\n", false, 400},
		{"a space before a header's colon is a 400", get + "X-Bad : 1\r\n\r\n", false, 400},
		{"a control character in a header value is a 400", get + "X-Bad: a\x01b\r\n\r\n", false, 400},
		{"an HTTP/1.1 request without Host is a 400", "GET /rtm/alice/ HTTP/1.1\r\nOrigin: " + faultOrigin + "\r\n\r\n", false, 400},
		{"two Host headers are a 400", get + "Host: y\r\n\r\n", false, 400},
		{"Content-Length together with chunked encoding is a 400", post + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", false, 400},
		{"two different Content-Lengths are a 400", post + "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}x", false, 400},
		{"a negative Content-Length is a 400", post + "Content-Length: -1\r\n\r\n", false, 400},
		{"a Content-Length that is not a number is a 400", post + "Content-Length: 1e3\r\n\r\n", false, 400},
		{"an unknown transfer coding is a 501", post + "Transfer-Encoding: gzip\r\n\r\n", false, 501},
		{"a chunk size that is not hex is a 400", post + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", false, 400},
		{"a chunk without its CRLF is a 400", post + "Transfer-Encoding: chunked\r\n\r\n2\r\n{}XX0\r\n\r\n", false, 400},
		{"a body cut short of its Content-Length by the client is a 400", post + "Content-Length: 100\r\n\r\n{\"type\":", true, 400},
		{"a chunked body cut short by the client is a 400", post + "Transfer-Encoding: chunked\r\n\r\n40\r\n{\"type\":", true, 400},
		{"headers larger than max_header_bytes are a 431", get + "X-Big: " + strings.Repeat("b", 100<<10) + "\r\n\r\n", false, 431},
		{"a request target larger than max_header_bytes is a 431", "GET /rtm/" + strings.Repeat("c", 100<<10) + "/ HTTP/1.1\r\nHost: x\r\n\r\n", false, 431},
		{"a body over max_body_bytes announced by Content-Length is a 413", post + "Content-Length: " + strconv.Itoa(len(bigBody)) + "\r\n\r\n" + bigBody, false, 413},
		{"a chunked body that grows over max_body_bytes is a 413", post + "Transfer-Encoding: chunked\r\n\r\n" + chunk(bigBody) + "0\r\n\r\n", false, 413},
	}
	for _, p := range []*process{token, proxy} {
		t.Run(p.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					a, err := faultTryRaw(p.addr, tt.raw, tt.closeWrite)
					var ne net.Error
					switch {
					case err != nil && tt.closeWrite && !(errors.As(err, &ne) && ne.Timeout()):
						faultAlive(t, p)
						return
					case err != nil:
						t.Fatal(err)
					}
					if a.status != tt.status {
						t.Errorf("status %d, want %d (body %.200q)", a.status, tt.status, a.body)
					}
					faultAlive(t, p)
				})
			}
			faultServesTokens(t, p.addr)
		})
	}
}
