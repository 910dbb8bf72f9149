package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2EchoUpstream is echoUpstream speaking HTTP/2 with prior knowledge:
// each answer after 20 ms, then the same HEADERS and DATA frames again on
// the same stream 100 ms later, when the stream is long closed.
func h2EchoUpstream(t *testing.T, repeats *atomic.Int64) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var open []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range open {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			open = append(open, c)
			mu.Unlock()
			wg.Go(func() { serveH2Echo(c, &wg, repeats) })
		}
	})
	return ln.Addr().String()
}

func serveH2Echo(c net.Conn, wg *sync.WaitGroup, repeats *atomic.Int64) {
	defer c.Close()
	br := bufio.NewReader(c)
	if _, err := io.ReadFull(br, make([]byte, len(http2.ClientPreface))); err != nil {
		return
	}
	fr := http2.NewFramer(c, br)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	var wmu sync.Mutex // the framer and the encoder write one frame at a time
	var hbuf []byte
	enc := hpack.NewEncoder(sliceWriter{&hbuf})
	write := func(f func() error) error {
		wmu.Lock()
		defer wmu.Unlock()
		return f()
	}
	answer := func(id uint32, path string) error {
		body := fmt.Sprintf(`{"path":%q}`, path)
		return write(func() error {
			hbuf = hbuf[:0]
			_ = enc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
			_ = enc.WriteField(hpack.HeaderField{Name: "content-type", Value: "application/json"})
			_ = enc.WriteField(hpack.HeaderField{Name: "content-length", Value: strconv.Itoa(len(body))})
			if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: hbuf, EndHeaders: true}); err != nil {
				return err
			}
			return fr.WriteData(id, true, []byte(body))
		})
	}
	if write(func() error { return fr.WriteSettings() }) != nil {
		return
	}
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() && write(fr.WriteSettingsAck) != nil {
				return
			}
		case *http2.PingFrame:
			if !f.IsAck() && write(func() error { return fr.WritePing(true, f.Data) }) != nil {
				return
			}
		case *http2.MetaHeadersFrame:
			id, path := f.StreamID, f.PseudoValue("path")
			wg.Go(func() {
				time.Sleep(20 * time.Millisecond)
				if answer(id, path) != nil {
					return
				}
				time.Sleep(100 * time.Millisecond)
				if answer(id, path) == nil {
					repeats.Add(1)
				}
			})
		}
	}
}

type sliceWriter struct{ b *[]byte }

func (w sliceWriter) Write(p []byte) (int, error) {
	*w.b = append(*w.b, p...)
	return len(p), nil
}

func TestAnHTTP2UpstreamThatAnswersTwiceReachesNobodyElseOverH2C(t *testing.T) {
	var repeats atomic.Int64
	up := h2EchoUpstream(t, &repeats)
	px := startProxy(t, "--upstream=http://"+up, "--rate_limit.per_ip=off", "--transport.protocol=h2c")
	s := measureIsolation(t, px.url(), 1500*time.Millisecond)
	t.Logf("%v; %d answers repeated on closed streams", s, repeats.Load())
	if repeats.Load() == 0 {
		t.Error("the upstream repeated no answer; nothing tested")
	}
	if n := s.crossed.Load(); n > 0 {
		t.Errorf("%d answers went to the wrong client (e.g. %v); %v", n, s.example.Load(), s)
	}
	if n := s.stale.Load(); n > 0 {
		t.Errorf("%d clients got an earlier answer again: a repeated stream reached a later request; %v", n, s)
	}
	if s.own.Load() == 0 {
		t.Errorf("no client got its own answer; nothing tested: %v", s)
	}
}
