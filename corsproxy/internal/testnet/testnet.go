// Package testnet gives corsproxy's tests loopback addresses that behave the
// same for the whole test. Nothing outside tests imports it.
package testnet

import (
	"strconv"
	"syscall"
	"testing"
)

// RefusingAddr returns a 127.0.0.1 address where every connection is refused
// until the test ends: a socket is bound to it and never listens. The port of
// a closed listener would not do: the kernel can hand it to the next port-0
// listener, and the "dead" upstream then answers. A bound socket without
// SO_REUSEADDR keeps the port from every other bind and outgoing connection.
func RefusingAddr(t testing.TB) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return "127.0.0.1:" + strconv.Itoa(sa.(*syscall.SockaddrInet4).Port)
}
