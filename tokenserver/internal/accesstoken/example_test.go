package accesstoken_test

import (
	"fmt"
	"time"

	"signaling-auth/tokenserver/internal/accesstoken"
)

// A Minter holds one app's credentials; each call mints one token. The clock and the
// salt are fixed here only so that the example prints the same token on every run: a
// server leaves both at their defaults (the time, and a random salt).
func ExampleMinter_Signaling() {
	m, err := accesstoken.NewMinter("970CA35de60c44645bbae8a215061b33", "5CFd2fd1755d40ecb72977518be15d3b",
		accesstoken.WithClock(func() time.Time { return time.Unix(1111111, 0) }),
		accesstoken.WithSalt(func() uint32 { return 1 }))
	if err != nil {
		panic(err)
	}
	tok, err := m.Signaling("test_user", 600)
	if err != nil {
		panic(err)
	}
	fmt.Println(tok.Token)

	// A parameter the token format or the Signaling service cannot carry is refused with
	// the rule it broke.
	_, err = m.Signaling("", 600)
	fmt.Println(err)
	// Output:
	// 007eJxSYOCdJftjyTM2zxW6Xhm/5T0j5LdcUt/xYVt48fb5Mp3PX9coMFiaGzg7GpumpJoZJJuYmJmYJiUlplokGhmaGpgZJhkbu38RYIhgYmBgZABhJgZGBkYwn5OhJLW4JL60OLUIEAAA//9ZVh6A
	// accesstoken: invalid parameters: uid: must be 1-64 characters long (got 0)
}

// Parse reads any "007" token without trusting it; Verify then checks the signature
// against the App Certificate.
func ExampleParse() {
	const token = "007eJxSYOCdJftjyTM2zxW6Xhm/5T0j5LdcUt/xYVt48fb5Mp3PX9coMFiaGzg7GpumpJoZJJuYmJmYJiUlplokGhmaGpgZJhkbu38RYIhgYmBgZABhJgZGBkYwn5OhJLW4JL60OLUIEAAA//9ZVh6A"
	t, err := accesstoken.Parse(token)
	if err != nil {
		panic(err)
	}
	fmt.Println(t.AppID, t.IssuedAt().UTC(), t.ExpiresAt().UTC())
	for _, s := range t.Services {
		fmt.Println(s.Type, s.UserID)
	}
	fmt.Println("signed with the app's certificate:", t.Verify("5CFd2fd1755d40ecb72977518be15d3b"))
	fmt.Println("signed with another one:", t.Verify("00000000000000000000000000000000"))
	// Output:
	// 970CA35de60c44645bbae8a215061b33 1970-01-13 20:38:31 +0000 UTC 1970-01-13 20:48:31 +0000 UTC
	// rtm test_user
	// signed with the app's certificate: true
	// signed with another one: false
}
