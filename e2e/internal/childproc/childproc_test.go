package childproc

import (
	"strings"
	"testing"
)

func TestListeningAddrs(t *testing.T) {
	long := `{"msg":"noise","detail":"` + strings.Repeat("x", 200<<10) + `"}`
	for _, tc := range []struct {
		name, log, addr, admin string
	}{
		{"both records are found among other lines",
			"text line\n{\"msg\":\"listening\",\"addr\":\"127.0.0.1:1\"}\n{\"msg\":\"admin listening\",\"addr\":\"127.0.0.1:2\"}\n",
			"127.0.0.1:1", "127.0.0.1:2"},
		{"a log without the records gives empty addresses", "{\"msg\":\"starting\"}\nnot json\n", "", ""},
		{"a record after a 200 KiB line is still found",
			long + "\n{\"msg\":\"listening\",\"addr\":\"127.0.0.1:3\"}\n", "127.0.0.1:3", ""},
		{"a half-written last line is skipped", "{\"msg\":\"listening\",\"addr\":\"127.0.0.1:4\"}\n{\"msg\":\"admin list", "127.0.0.1:4", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, admin := ListeningAddrs(strings.NewReader(tc.log))
			if addr != tc.addr || admin != tc.admin {
				t.Errorf("got (%q, %q), want (%q, %q)", addr, admin, tc.addr, tc.admin)
			}
		})
	}
}
