package main

import (
	"bytes"
	"fmt"
	"strconv"

	"signaling-auth/e2e/internal/load"
)

// What the clients send: GET /rtm/{uid}/ as the demo page does, with the
// page's Origin, and for the preflight scenario the OPTIONS a browser sends
// first because the page adds X-Requested-With.

// uidFor varies the user ID per client and iteration (64 000 distinct IDs
// at 64 clients), so no answer could come from a cache.
func uidFor(client, i int) []byte {
	b := append([]byte("u"), strconv.Itoa(client)...)
	b = append(b, '-')
	return strconv.AppendInt(b, int64(i%1000), 10)
}

func appendGET(b []byte, uid []byte, xrw bool) []byte {
	b = append(b, "GET /rtm/"...)
	b = append(b, uid...)
	b = append(b, "/?expiry=600 HTTP/1.1\r\nHost: bench.local\r\nOrigin: "+allowedOrigin+"\r\nAccept: */*\r\n"...)
	if xrw {
		b = append(b, "X-Requested-With: XMLHttpRequest\r\n"...)
	}
	return append(b, "\r\n"...)
}

func appendPreflight(b []byte, uid []byte) []byte {
	b = append(b, "OPTIONS /rtm/"...)
	b = append(b, uid...)
	return append(b, "/?expiry=600 HTTP/1.1\r\nHost: bench.local\r\nOrigin: "+allowedOrigin+
		"\r\nAccess-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: x-requested-with\r\n\r\n"...)
}

var tokenPrefix = []byte(`{"rtmToken":"007`)

// tokenFetch is one token fetch: a GET that must answer 200 with a token,
// carrying Access-Control-Allow-Origin for the page when cors is set, and
// preceded by a preflight that must answer 204 when preflight is set.
func tokenFetch(clients int, cors, preflight bool) load.Fetch {
	bufs := make([][]byte, clients)
	return func(c *load.Conn, client, i int) error {
		uid := uidFor(client, i)
		if preflight {
			bufs[client] = appendPreflight(bufs[client][:0], uid)
			r, err := c.RoundTrip("OPTIONS", bufs[client])
			if err != nil {
				return err
			}
			if r.Status != 204 {
				return fmt.Errorf("preflight: status %d", r.Status)
			}
			if got := r.Header.Get("Access-Control-Allow-Origin"); got != allowedOrigin {
				return fmt.Errorf("preflight: Access-Control-Allow-Origin %q", got)
			}
		}
		bufs[client] = appendGET(bufs[client][:0], uid, preflight)
		r, err := c.RoundTrip("GET", bufs[client])
		if err != nil {
			return err
		}
		if r.Status != 200 {
			return fmt.Errorf("GET: status %d", r.Status)
		}
		if !bytes.HasPrefix(r.Body, tokenPrefix) {
			return fmt.Errorf("GET: body is not a Signaling token answer: %.40q", r.Body)
		}
		if cors {
			if got := r.Header.Get("Access-Control-Allow-Origin"); got != allowedOrigin {
				return fmt.Errorf("GET: Access-Control-Allow-Origin %q", got)
			}
		}
		return nil
	}
}
