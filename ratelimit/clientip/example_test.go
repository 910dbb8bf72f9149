package clientip_test

import (
	"fmt"
	"net/http"

	"signaling-auth/ratelimit/clientip"
)

// A proxy trusts its load balancer (10.0.0.2): it keys its limits on the client the
// balancer reported, ignores the Forwarded header, and sends that same client on, alone,
// so the token server behind it — trusting only the proxy — keys on it too.
func ExampleResolver_Forward() {
	proxy, _ := clientip.New([]string{"10.0.0.2"})
	in, _ := http.NewRequest("GET", "http://proxy.example/rtm/alice/", nil)
	in.RemoteAddr = "10.0.0.2:41000"
	in.Header.Set("X-Forwarded-For", "6.6.6.6, 198.51.100.7")
	in.Header.Set("Forwarded", "for=7.7.7.7")
	fmt.Println("proxy keys on", clientip.Key(proxy.ClientIP(in)))

	out := http.Header{}
	proxy.Forward(in, out)
	fmt.Println("sent on:", out.Get(clientip.Header), out.Values("Forwarded"))

	tokenserver, _ := clientip.New([]string{"10.0.0.9"})
	next, _ := http.NewRequest("GET", "http://tokenserver:8081/rtm/alice/", nil)
	next.RemoteAddr = "10.0.0.9:52000"
	next.Header = out
	fmt.Println("token server keys on", clientip.Key(tokenserver.ClientIP(next)))
	// Output:
	// proxy keys on 198.51.100.7
	// sent on: 198.51.100.7 []
	// token server keys on 198.51.100.7
}
