package accesstoken

import (
	"strings"
	"testing"
)

// TestUserIDLimitIsExactly64Bytes: Agora's limit is 64 bytes, so 64 is the
// last length accepted and 65 the first refused, with an exact message (a
// check written as len > 65 passes tests that try only 64 and 70).
func TestUserIDLimitIsExactly64Bytes(t *testing.T) {
	if err := ValidateUserID(strings.Repeat("u", 64)); err != nil {
		t.Errorf("a 64-byte user ID: %v", err)
	}
	err := ValidateUserID(strings.Repeat("u", 65))
	if err == nil || err.Error() != "must be 1-64 characters long (got 65)" {
		t.Errorf("a 65-byte user ID: %v, want must be 1-64 characters long (got 65)", err)
	}
	m, err := NewMinter(vecAppID, vecCert)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Signaling(strings.Repeat("u", 65), 600); err == nil {
		t.Error("the minter made a Signaling token for a 65-byte user ID")
	}
}
