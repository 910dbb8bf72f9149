package settings_test

import (
	"fmt"
	"os"

	"signaling-auth/settings"
)

// A program declares its keys once; Load merges defaults, the config file, the
// environment and flags, and the getters convert and check each value, collecting every
// problem into one error instead of stopping at the first.
func ExampleProgram_Load() {
	p := &settings.Program{
		Name:      "demo",
		EnvPrefix: "DEMO_",
		Keys: []settings.Key{
			{Name: "listen", Kind: settings.String, Default: ":8080", Doc: "address to listen on"},
			{Name: "timeouts.read", Kind: settings.String, Default: "10s", Doc: "read timeout"},
			{Name: "max_body", Kind: settings.String, Default: "16KiB", Doc: "largest request body"},
		},
	}
	env := map[string]string{"DEMO_TIMEOUTS_READ": "90", "DEMO_MAX_BODY": "1MB"}
	vs, err := p.Load(settings.Source{Getenv: func(k string) string { return env[k] }, Dir: os.TempDir()})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(vs.HostPort("listen"))
	fmt.Println(vs.Duration("timeouts.read", 0, settings.Forever))
	vs.Size("max_body", 1, 1<<20)
	fmt.Println(vs.Err())
	// Output:
	// :8080
	// 1m30s
	// config: max_body: must be a size in bytes like 16384 or 16KiB (got "1MB")
}

// A Secret prints as [redacted] through every formatting path; only Reveal returns it.
func ExampleSecret() {
	cert := settings.NewSecret("5CFd2fd1755d40ecb72977518be15d3b")
	fmt.Println(cert)
	fmt.Printf("%v %+v %#v %q\n", cert, cert, cert, cert)
	fmt.Println(len(cert.Reveal()))
	// Output:
	// [redacted]
	// [redacted] [redacted] settings.Secret("[redacted]") [redacted]
	// 32
}

// Sizes take a binary unit or none; "1MB" is refused rather than guessed at.
func ExampleParseSize() {
	for _, s := range []string{"16384", "16KiB", "1MiB", "1MB"} {
		n, err := settings.ParseSize(s)
		fmt.Println(s, n, err)
	}
	// Output:
	// 16384 16384 <nil>
	// 16KiB 16384 <nil>
	// 1MiB 1048576 <nil>
	// 1MB 0 must be a size in bytes like 16384 or 16KiB
}
