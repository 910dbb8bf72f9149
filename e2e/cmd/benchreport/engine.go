package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// benchLine is one result line of `go test -bench -benchmem`.
type benchLine struct {
	name     string // without "Benchmark" and the -GOMAXPROCS suffix
	nsOp     float64
	bytesOp  float64
	allocsOp float64
}

var benchRE = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(?:\s+([\d.]+) B/op)?(?:\s+([\d.]+) allocs/op)?`)

// parseBench reads the result lines from go test's output, in order.
func parseBench(out []byte) []benchLine {
	var lines []benchLine
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		m := benchRE.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		l := benchLine{name: m[1]}
		l.nsOp, _ = strconv.ParseFloat(m[2], 64)
		l.bytesOp, _ = strconv.ParseFloat(m[3], 64)
		l.allocsOp, _ = strconv.ParseFloat(m[4], 64)
		lines = append(lines, l)
	}
	return lines
}

// enginePair is one of our operations next to its baseline (nil when the
// benchmark has none).
type enginePair struct {
	ours, base *benchLine
	note       string
}

// baselines names the baseline of benchmarks that do not follow the
// Benchmark<X> / BenchmarkReference<X> convention of the engine's
// bench_test.go.
var baselines = map[string]struct{ base, note string }{
	"ParseVerify":         {"ReferenceParse", "reference parses only; ours also verifies the signature"},
	"ParseVerifyParallel": {"ReferenceParseParallel", "reference parses only; ours also verifies the signature"},
	"Deflate":             {"ZlibWriterReset", "baseline: a reused compress/zlib writer"},
}

// pairEngine matches every benchmark of ours with its baseline.
func pairEngine(lines []benchLine) []enginePair {
	byName := map[string]*benchLine{}
	isBase := map[string]bool{}
	for i := range lines {
		byName[lines[i].name] = &lines[i]
	}
	for _, b := range baselines {
		isBase[b.base] = true
	}
	var pairs []enginePair
	for i := range lines {
		l := &lines[i]
		if strings.HasPrefix(l.name, "Reference") || isBase[l.name] {
			continue
		}
		p := enginePair{ours: l}
		if b, ok := baselines[l.name]; ok {
			p.base, p.note = byName[b.base], b.note
		} else {
			p.base = byName["Reference"+l.name]
		}
		pairs = append(pairs, p)
	}
	return pairs
}

// runEngine runs the engine's benchmarks in root/tokenserver.
func runEngine(root, benchtime string) ([]enginePair, error) {
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", ".", "-benchmem", "-benchtime", benchtime, "./internal/accesstoken/")
	cmd.Dir = filepath.Join(root, "tokenserver")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("engine benchmarks: %v\n%s", err, out)
	}
	pairs := pairEngine(parseBench(out))
	if len(pairs) == 0 {
		return nil, fmt.Errorf("engine benchmarks: no results in:\n%s", out)
	}
	return pairs, nil
}
