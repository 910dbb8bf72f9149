package tokens

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// Seeds live in testdata/fuzz/<FuzzName>/ as well; `go test` runs them all.

func FuzzExpiryParse(f *testing.F) {
	for _, s := range []string{"", "0", "1", "600", "86400", "86401", "-1", "+1", "1.5", "1e3", " 60", "0x10", "99999999999999999999999", "٣"} {
		f.Add(s)
	}
	e := Limits{DefaultExpiry: time.Hour, MaxExpiry: 24 * time.Hour}
	f.Fuzz(func(t *testing.T, s string) {
		var bad Params
		n := e.parse(s, "expiry", &bad)
		if len(bad) > 0 {
			if len(bad) != 1 || bad[0].Name != "expiry" || bad[0].Reason == "" {
				t.Fatalf("bad report for %q: %+v", s, bad)
			}
			return
		}
		if n < 1 || n > 86400 {
			t.Fatalf("%q accepted as %d, outside 1..86400", s, n)
		}
		if strings.TrimLeft(s, "0") != strconv.FormatUint(uint64(n), 10) {
			t.Fatalf("%q accepted as %d", s, n)
		}
	})
}
