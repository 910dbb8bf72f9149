// Package accesslog writes one structured log record per request and gives
// each request an ID that is passed to the upstream as X-Request-Id.
//
// The record holds the request line (path only, no query), the status, the
// latency and the Origin — never a header value like Authorization, and
// never a body, so tokens do not end up in logs. A request whose client went
// away before any answer is recorded with status 499.
package accesslog

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// StatusClientClosedRequest is recorded when the client left before an
// answer was written (nginx's 499); it is never sent.
const StatusClientClosedRequest = 499

// Observer is told about each finished request, for metrics.
type Observer interface {
	Request(status int, d time.Duration)
}

type infoKey struct{}

// info is what the handler keeps about one request in its context.
type info struct {
	id    string
	notes []slog.Attr // added by Note, written into the record
}

// ID returns the request ID of ctx, or "".
func ID(ctx context.Context) string {
	if in, ok := ctx.Value(infoKey{}).(*info); ok {
		return in.id
	}
	return ""
}

// Note adds attrs to the access-log record of the request whose context is
// ctx (a decision the status alone does not tell, such as why a preflight
// was refused). Call it from the request's handler goroutine; without an
// access log in front it does nothing.
func Note(ctx context.Context, attrs ...slog.Attr) {
	if in, ok := ctx.Value(infoKey{}).(*info); ok {
		in.notes = append(in.notes, attrs...)
	}
}

// maxPathInLog bounds the path in a record; paths are client-controlled.
const maxPathInLog = 256

// Handler returns next with access logging. obs may be nil.
func Handler(next http.Handler, log *slog.Logger, obs Observer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validID(id) {
			id = newID()
			r.Header.Set("X-Request-Id", id)
		}
		in := &info{id: id}
		ctx := context.WithValue(r.Context(), infoKey{}, in)
		rec := &recorder{ResponseWriter: w}
		defer func() {
			// Runs on panics too: ReverseProxy aborts a response whose body
			// it could not finish with panic(http.ErrAbortHandler), which
			// net/http expects and handles; we only note it and re-panic.
			p := recover()
			status := rec.status
			if status == 0 {
				status = http.StatusOK // what net/http sends for an empty answer
				if ctx.Err() != nil || p != nil {
					status = StatusClientClosedRequest
				}
			}
			d := time.Since(start)
			if obs != nil {
				obs.Request(status, d)
			}
			path := r.URL.EscapedPath()
			if r.RequestURI != "" && r.RequestURI[0] != '/' {
				path = r.RequestURI // absolute-form: log what was asked
			}
			if len(path) > maxPathInLog {
				path = path[:maxPathInLog] + "…"
			}
			attrs := []slog.Attr{
				slog.String("request_id", id),
				slog.String("method", r.Method),
				slog.String("route", route(r)),
				slog.String("path", path),
				slog.Int("status", status),
				slog.Duration("latency", d),
				slog.Int64("bytes", rec.bytes),
				slog.String("origin", truncate(r.Header.Get("Origin"))),
				slog.String("remote", r.RemoteAddr),
			}
			attrs = append(attrs, in.notes...)
			if p != nil {
				attrs = append(attrs, slog.Bool("aborted", true))
			}
			log.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
			if p != nil {
				panic(p)
			}
		}()
		next.ServeHTTP(rec, r.WithContext(ctx))
	})
}

// route names what kind of request this was; there are no route patterns in
// a proxy, and the path alone does not say whether it was a preflight.
func route(r *http.Request) string {
	switch {
	case r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "":
		return "preflight"
	case len(r.RequestURI) > 1 && r.RequestURI[0] == '/' && r.RequestURI[1] != '/' && isSchemeSegment(r.RequestURI[1:]):
		return "target"
	default:
		return "upstream"
	}
}

func isSchemeSegment(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ':':
			return i > 0
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return false
}

func truncate(s string) string {
	if len(s) > maxPathInLog {
		return s[:maxPathInLog] + "…"
	}
	return s
}

// validID accepts a client's request ID only if it is short and plain, so it
// cannot be used to inject into logs or upstream headers.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// recorder remembers the status and size of the answer.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 && code >= 200 {
		r.status = code // 1xx answers are informational; the final one counts
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer (flush,
// deadlines).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Hijack takes over the connection. ReverseProxy hijacks only to complete a
// protocol switch, writing the 101 itself on the raw connection, so a
// successful hijack is recorded as 101.
func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(r.ResponseWriter).Hijack()
	if err == nil && r.status == 0 {
		r.status = http.StatusSwitchingProtocols
	}
	return c, brw, err
}
