package settings

import (
	"io"
	"log/slog"
	"time"
)

// Keys every program shares, declared once here and read by the Values
// methods below: log.level and log.format (LogKeys, Values.Log) and
// timeouts.drain (DrainKey, Values.Drain). The connection limits are
// ratelimit/connsettings'.
var (
	LogKeys = []Key{
		{Name: "log.level", Default: "info", Doc: "debug, info, warn or error."},
		{Name: "log.format", Default: "text", Doc: "text or json (one JSON object per line)."},
	}
	DrainKey = Key{Name: "timeouts.drain", Kind: Duration, Default: "5s",
		Doc: "On SIGTERM, time /readyz answers 503 while requests are still served, so a load balancer\ntakes this instance out before the listener closes (0: none). SIGINT skips it."}
)

// Log is LogKeys loaded: how a program logs.
type Log struct {
	Level  slog.Level
	Format string // "text" or "json"
}

// Logger is the program's logger, writing to w as l says.
func (l Log) Logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: l.Level}
	if l.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Log reads LogKeys.
func (vs *Values) Log() Log {
	return Log{Level: vs.Level("log.level"), Format: vs.OneOf("log.format", "text", "json")}
}

// Drain reads DrainKey (0: no drain).
func (vs *Values) Drain() time.Duration { return vs.Duration(DrainKey.Name, 0, Forever) }

// PositiveDuration reads a duration key that must be above zero.
func (vs *Values) PositiveDuration(key string) time.Duration { return vs.Duration(key, 1, Forever) }
