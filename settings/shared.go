package settings

import (
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

// Log reads LogKeys: the level and the format (text or json).
func (vs *Values) Log() (slog.Level, string) {
	return vs.Level("log.level"), vs.OneOf("log.format", "text", "json")
}

// Drain reads DrainKey (0: no drain).
func (vs *Values) Drain() time.Duration { return vs.Duration(DrainKey.Name, 0, Forever) }

// PositiveDuration reads a duration key that must be above zero.
func (vs *Values) PositiveDuration(key string) time.Duration { return vs.Duration(key, 1, Forever) }
