package testnet

import (
	"errors"
	"net"
	"syscall"
	"testing"
)

func TestRefusingAddrRefusesConnectionsAndCannotBeTaken(t *testing.T) {
	addr := RefusingAddr(t)
	if _, err := net.Dial("tcp", addr); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dialling %s: %v, want connection refused", addr, err)
	}
	// Go's listeners set SO_REUSEADDR; the held socket does not, so even
	// they cannot bind the port.
	if ln, err := net.Listen("tcp", addr); err == nil {
		ln.Close()
		t.Fatalf("a listener could bind %s while the test holds it", addr)
	}
	// Nor can a port-0 listener be given it.
	for range 200 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		got := ln.Addr().String()
		ln.Close()
		if got == addr {
			t.Fatalf("a port-0 listener was given %s", addr)
		}
	}
}
