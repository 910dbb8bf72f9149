package redistest

import (
	"net"
	"testing"
	"time"
)

func TestAMissingRedisFailsInCIAndSkipsElsewhere(t *testing.T) {
	tests := []struct {
		name string
		ci   string
		want bool
	}{
		{"CI=true fails the test", "true", true},
		{"no CI variable skips it", "", false},
		{"CI=false skips it", "false", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustRun(tt.ci); got != tt.want {
				t.Errorf("mustRun(%q) = %v, want %v", tt.ci, got, tt.want)
			}
		})
	}
}

func TestStartAnswersPingAndStopKillsIt(t *testing.T) {
	s := Start(t)
	if err := ping(s.Addr); err != nil {
		t.Fatalf("PING: %v", err)
	}
	s.Stop()
	s.Stop() // a second Stop is harmless
	c, err := net.DialTimeout("tcp", s.Addr, time.Second)
	if err == nil {
		c.Close()
		t.Fatal("the server still accepts connections after Stop")
	}
}

func TestTarpitAcceptsAndNeverAnswers(t *testing.T) {
	addr := Tarpit(t)
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = c.Write([]byte("PING\r\n"))
	_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, err := c.Read(make([]byte, 1)); err == nil || n > 0 {
		t.Fatal("the tarpit answered")
	}
}
