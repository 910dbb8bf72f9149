package accesstoken

import (
	"os"
	"testing"

	"signaling-auth/tokenserver/internal/accesstoken/npmoracle"
)

// TestMain removes the npm oracle's package after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	npmoracle.Cleanup()
	os.Exit(code)
}
