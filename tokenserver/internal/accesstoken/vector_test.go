package accesstoken

import (
	"testing"
	"time"
)

// The published vector (DESIGN.md §4) and its siblings: the expected strings are the
// ones in the reference module's own accesstoken2/accesstoken_test.go.
const (
	vecAppID   = "970CA35de60c44645bbae8a215061b33"
	vecCert    = "5CFd2fd1755d40ecb72977518be15d3b"
	vecChannel = "7d72365eb983485397e3e3f9d460bdda"
	vecUID     = uint32(2882341273)
	vecUIDStr  = "2882341273"
	vecIssueTs = uint32(1111111)
	vecSalt    = uint32(1)
	vecExpire  = uint32(600)
)

func vectorMinter(t testing.TB) *Minter {
	t.Helper()
	m, err := NewMinter(vecAppID, vecCert,
		WithClock(func() time.Time { return time.Unix(int64(vecIssueTs), 0) }),
		WithSalt(func() uint32 { return vecSalt }))
	if err != nil {
		t.Fatalf("NewMinter: %v", err)
	}
	return m
}

func TestPublishedVectors(t *testing.T) {
	m := vectorMinter(t)
	tests := []struct {
		name string
		mint func() (Minted, error)
		want string
	}{
		{
			name: "a Signaling token for test_user valid 600 s matches the published vector",
			mint: func() (Minted, error) { return m.Signaling("test_user", vecExpire) },
			want: "007eJxSYOCdJftjyTM2zxW6Xhm/5T0j5LdcUt/xYVt48fb5Mp3PX9coMFiaGzg7GpumpJoZJJuYmJmYJiUlplokGhmaGpgZJhkbu38RYIhgYmBgZABhJgZGBkYwn5OhJLW4JL60OLUIEAAA//9ZVh6A",
		},
		{
			name: "an RTC subscriber token for a numeric uid matches the reference's RTC vector",
			mint: func() (Minted, error) { return m.RTCWithUID(vecChannel, vecUID, RoleSubscriber, vecExpire, vecExpire) },
			want: "007eJxSYBBbsMMnKq7p9Hf/HcIX5kce9b518kCiQgSr5Zrp4X1Tu6UUGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcwMk4yN3b8IMEQwMTAwMoAwBIL4CgzmKeZGxmamqUmWFsYmFqbGluapxqnGaZYpJmYGSSkpiVwMRhYWRsYmhkbmxoAAAAD//8JqJOM=",
		},
		{
			name: "an RTC subscriber token for the account string of that uid is the same token",
			mint: func() (Minted, error) {
				return m.RTCWithAccount(vecChannel, vecUIDStr, RoleSubscriber, vecExpire, vecExpire)
			},
			want: "007eJxSYBBbsMMnKq7p9Hf/HcIX5kce9b518kCiQgSr5Zrp4X1Tu6UUGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcwMk4yN3b8IMEQwMTAwMoAwBIL4CgzmKeZGxmamqUmWFsYmFqbGluapxqnGaZYpJmYGSSkpiVwMRhYWRsYmhkbmxoAAAAD//8JqJOM=",
		},
		{
			name: "an RTC subscriber token for uid 0 matches the reference's uid-0 vector",
			mint: func() (Minted, error) { return m.RTCWithUID(vecChannel, 0, RoleSubscriber, vecExpire, vecExpire) },
			want: "007eJxSYLhzZP08Lxa1Pg57+TcXb/3cZ3wi4V6kbpbOog0G2dOYk20UGCzNDZwdjU1TUs0Mkk1MzExMk5ISUy0SjQxNDcwMk4yN3b8IMEQwMTAwMoAwBIL4CgzmKeZGxmamqUmWFsYmFqbGluapxqnGaZYpJmYGSSkpiQwMgAAAAP//Npwiag==",
		},
		{
			name: "a Chat user token matches the reference's Chat user vector",
			mint: func() (Minted, error) { return m.ChatUser(vecUIDStr, vecExpire) },
			want: "007eJxSYNAIsnbS3v/A5t2TC6feR15r+6cq8bqAvfaW+tk/Vzz+p6xTYLA0N3B2NDZNSTUzSDYxMTMxTUpKTLVINDI0NTAzTDI2dv8iwBDBxMDAyADCrAyMDIxgPheDkYWFkbGJoZG5MSAAAP//H6UeuA==",
		},
		{
			name: "a Chat app token matches the reference's Chat app vector",
			mint: func() (Minted, error) { return m.ChatApp(vecExpire) },
			want: "007eJxSYNDNaz3snC8huEfHWdz6s98qltq4zqy9fl99Uh0FDvy6F6DAYGlu4OxobJqSamaQbGJiZmKalJSYapFoZGhqYGaYZGzs/kWAIYKJgYGRAYRZGRgZmMB8BgZAAAAA//+t8hhr",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.mint()
			if err != nil {
				t.Fatalf("mint: %v", err)
			}
			if got.Token != tt.want {
				t.Errorf("token\n got %s\nwant %s", got.Token, tt.want)
			}
			if want := time.Unix(int64(vecIssueTs), 0); !got.IssuedAt.Equal(want) {
				t.Errorf("IssuedAt = %v, want %v", got.IssuedAt, want)
			}
			if want := time.Unix(int64(vecIssueTs+vecExpire), 0); !got.ExpiresAt.Equal(want) {
				t.Errorf("ExpiresAt = %v, want %v", got.ExpiresAt, want)
			}
		})
	}
}
