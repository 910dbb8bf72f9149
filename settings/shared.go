package settings

import (
	"io"
	"log/slog"
	"time"

	"signaling-auth/lifecycle"
)

// Keys every program shares are declared once here and read by the Values
// methods below: log.level and log.format (LogKeys, Values.Log), and the
// listener's listen and timeouts.* (ServerKeys, Values.Timeouts). The
// connection limits are ratelimit/connsettings'.

// LogKeys are log.level and log.format.
var LogKeys = []Key{
	{Name: "log.level", Default: "info", Doc: "debug, info, warn or error."},
	{Name: "log.format", Default: "text", Doc: "text or json (one JSON object per line)."},
}

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

// PositiveDuration reads a duration key that must be above zero.
func (vs *Values) PositiveDuration(key string) time.Duration { return vs.Duration(key, 1, Forever) }

// ServerDefaults are one program's defaults for ServerKeys, written as a
// Key's Default is.
type ServerDefaults struct {
	Listen                                  string
	ReadHeader, Read, Write, Idle, Shutdown string
}

// ServerKeys are the keys of a program's listener, the same in every
// program but for their defaults: listen, and timeouts.read_header, .read,
// .write, .idle, .shutdown and .drain. Values.HostPort reads
// listen, Values.Timeouts the rest.
func ServerKeys(d ServerDefaults) []Key {
	return []Key{
		{Name: "listen", Default: d.Listen, Doc: "Address to listen on, host:port (port 0 picks a free port)."},
		{Name: "timeouts.read_header", Kind: Duration, Default: d.ReadHeader, Doc: "Time a client gets to send its request headers."},
		{Name: "timeouts.read", Kind: Duration, Default: d.Read, Doc: "Time a client gets to send its whole request."},
		{Name: "timeouts.write", Kind: Duration, Default: d.Write, Doc: "Time to write an answer, from the end of the request headers."},
		{Name: "timeouts.idle", Kind: Duration, Default: d.Idle, Doc: "Time an idle keep-alive client connection stays open."},
		{Name: "timeouts.shutdown", Kind: Duration, Default: d.Shutdown, Doc: "Time in-flight requests get to finish on SIGINT/SIGTERM."},
		{Name: "timeouts.drain", Kind: Duration, Default: "5s",
			Doc: "On SIGTERM, time /readyz answers 503 while requests are still served, so a load balancer\ntakes this instance out before the listener closes (0: none). SIGINT skips it."},
	}
}

// Timeouts reads ServerKeys' timeouts: each above zero, the drain 0 or more.
func (vs *Values) Timeouts() lifecycle.Timeouts {
	return lifecycle.Timeouts{
		ReadHeader: vs.PositiveDuration("timeouts.read_header"),
		Read:       vs.PositiveDuration("timeouts.read"),
		Write:      vs.PositiveDuration("timeouts.write"),
		Idle:       vs.PositiveDuration("timeouts.idle"),
		Shutdown:   vs.PositiveDuration("timeouts.shutdown"),
		Drain:      vs.Duration("timeouts.drain", 0, Forever),
	}
}
