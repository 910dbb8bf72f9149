package origin_test

import (
	"fmt"

	"signaling-auth/origin"
)

// A program parses its allowlist once, at start, and refuses to start on any error;
// each request's Origin header is then matched against the parsed list.
func ExampleParseList() {
	list, errs := origin.ParseList([]string{
		"HTTPS://App.Example.com:443/",  // normalised to the browser's spelling
		"https://*.example.net",         // any subdomain, never example.net itself
		"https://app.example.com/login", // a path is never part of an origin
	}, false)
	for _, err := range errs {
		fmt.Println("refused:", err)
	}
	fmt.Println(list.Entries())
	for _, o := range []string{
		"https://app.example.com",
		"https://api.example.net",
		"https://example.net",
		"https://.example.net",
		"https://evil.org:1.example.net",
	} {
		fmt.Printf("%-31s %v\n", o, list.Allows(o))
	}
	// Output:
	// refused: "https://app.example.com/login": must not have a path, query or fragment (an Origin header never has one)
	// [https://app.example.com https://*.example.net]
	// https://app.example.com         true
	// https://api.example.net         true
	// https://example.net             false
	// https://.example.net            false
	// https://evil.org:1.example.net  false
}

// With credentials (Access-Control-Allow-Credentials: true) a wildcard would hand a
// user's session to any site, so ParseList refuses it.
func ExampleParseList_credentials() {
	_, errs := origin.ParseList([]string{"*"}, true)
	fmt.Println(errs)
	// Output:
	// ["*" cannot be combined with allow_credentials (any site could read credentialed answers); list the origins]
}
