package connlimit

import (
	"errors"
	"net"
	"testing"
	"time"
)

func TestCapHoldsAndSlotsComeBack(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := Listen(inner, 2)
	defer l.Close()
	accepted := make(chan net.Conn, 8)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	for range 3 {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	first, second := <-accepted, <-accepted
	select {
	case c := <-accepted:
		t.Fatalf("a third connection %v was accepted with a cap of 2", c.RemoteAddr())
	case <-time.After(200 * time.Millisecond): // the expected outcome; slowness cannot fail it
	}
	if _, ok := first.(interface{ CloseWrite() error }); !ok {
		t.Fatal("an accepted TCP connection lost CloseWrite")
	}
	// Closing twice frees one slot, not two.
	first.Close()
	first.Close()
	select {
	case <-accepted:
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting connection was not accepted after one closed")
	}
	c, err := net.Dial("tcp", inner.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	select {
	case c := <-accepted:
		t.Fatalf("a connection %v was accepted past the cap after a double Close", c.RemoteAddr())
	case <-time.After(200 * time.Millisecond):
	}
	second.Close()
	select {
	case <-accepted:
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting connection was not accepted after another closed")
	}
}

func TestCloseReleasesAnAcceptWaitingForASlot(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := Listen(inner, 1)
	c, err := net.Dial("tcp", inner.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := l.Accept(); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { _, err := l.Accept(); errc <- err }()
	l.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Accept after Close = %v, want net.ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Accept still waits after Close")
	}
}
