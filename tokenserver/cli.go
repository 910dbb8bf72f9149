package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"signaling-auth/settings"
	"signaling-auth/tokenserver/internal/accesstoken"
	"signaling-auth/tokenserver/internal/api"
	"signaling-auth/tokenserver/internal/config"
)

// mintFlags maps the native API's field names to the mint subcommand's flags,
// so an error names the flag the user typed.
var mintFlags = map[string]string{
	"type": "--type", "uid": "--uid", "channel": "--channel", "role": "--role",
	"rtmUid": "--rtmuid", "expiresIn": "--expire",
}

// mint prints one token on stdout, through the same checks as POST /v1/tokens.
func mint(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var q api.MintRequest
	var expire string
	fs := flagSet("mint", func(fs *pflag.FlagSet) {
		fs.StringVar(&q.Type, "type", "signaling", "token type: signaling, rtc, rte, chat-user or chat-app")
		fs.StringVar(&q.UID, "uid", "", "user ID (rtc: a numeric uid or a user account; 0 for any user)")
		fs.StringVar(&q.Channel, "channel", "", "RTC channel (rtc, rte)")
		fs.StringVar(&q.Role, "role", "", "publisher (default) or subscriber (rtc, rte)")
		fs.StringVar(&q.RTMUID, "rtmuid", "", "Signaling user ID for rte (default: --uid)")
		fs.StringVar(&expire, "expire", "", "lifetime in seconds or as a duration (default: token.default_expiry)")
	})
	cfg, err := load("mint", fs, args, getenv, stdout)
	if errors.Is(err, errHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s mint: unexpected argument %q", prog, fs.Arg(0))
	}
	if expire != "" {
		d, err := settings.ParseDuration(expire)
		if err != nil || d%time.Second != 0 {
			return fmt.Errorf("%s mint: --expire: must be a whole number of seconds or a duration like 1h (got %q)", prog, expire)
		}
		n := int64(d / time.Second)
		q.ExpiresIn = &n
	}
	minter, _, err := newMinter(cfg)
	if err != nil {
		return err
	}
	resp, bad, err := api.Mint(minter, api.Limits{DefaultExpiry: cfg.DefaultExpiry, MaxExpiry: cfg.MaxExpiry}, q)
	if err != nil {
		return fmt.Errorf("%s mint: %v", prog, err)
	}
	if len(bad) > 0 {
		lines := make([]string, len(bad))
		for i, p := range bad {
			lines[i] = fmt.Sprintf("%s mint: %s: %s", prog, mintFlags[p.Name], p.Reason)
		}
		return errors.New(strings.Join(lines, "\n"))
	}
	if cfg.Demo {
		fmt.Fprintln(stderr, prog+" mint: "+demoWarning)
	}
	fmt.Fprintln(stdout, resp.Token)
	return nil
}

// inspect prints a token's fields; with a configured certificate it also
// verifies the signature and fails when it does not match.
func inspect(args []string, getenv func(string) string, stdout io.Writer) error {
	var asJSON bool
	fs := flagSet("inspect", func(fs *pflag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print the fields as JSON (as POST /v1/tokens/inspect answers)")
	})
	cfg, err := load("inspect", fs, args, getenv, stdout)
	if errors.Is(err, errHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%s inspect: want exactly one TOKEN argument (got %d)", prog, fs.NArg())
	}
	t, err := accesstoken.Parse(strings.TrimSpace(fs.Arg(0)))
	if err != nil {
		return fmt.Errorf("%s inspect: not an AccessToken2: %s", prog, strings.TrimPrefix(err.Error(), "accesstoken: "))
	}
	in := api.Inspect(t, cfg.AppID, cfg.AppCertificate.Reveal(), time.Now())
	in.Mode = api.Mode(cfg.Demo)
	if asJSON {
		b, _ := json.MarshalIndent(in, "", "  ")
		fmt.Fprintln(stdout, string(b))
	} else {
		printInspection(stdout, in, cfg)
	}
	if !cfg.Demo && !in.SignatureValid {
		return fmt.Errorf("%s inspect: the signature does not match the configured certificate", prog)
	}
	return nil
}

func printInspection(w io.Writer, in api.Inspection, cfg config.Config) {
	expired := ""
	if in.Expired {
		expired = "  (EXPIRED)"
	}
	fmt.Fprintf(w, "version     %s\n", in.Version)
	fmt.Fprintf(w, "app ID      %s\n", in.AppID)
	fmt.Fprintf(w, "issued at   %s (issueTs %d)\n", in.IssuedAt, in.IssueTs)
	fmt.Fprintf(w, "expires at  %s (expire %d s)%s\n", in.ExpiresAt, in.Expire, expired)
	fmt.Fprintf(w, "salt        %d\n", in.Salt)
	for _, s := range in.Services {
		fmt.Fprintf(w, "service     %s (%d)", s.Name, s.Type)
		if s.Channel != "" {
			fmt.Fprintf(w, " channel %q", s.Channel)
		}
		if s.UID != "" {
			fmt.Fprintf(w, " user %q", s.UID)
		}
		fmt.Fprintln(w)
		for _, p := range s.Privileges {
			fmt.Fprintf(w, "  privilege %s (%d) until %s (expire %d s)\n", p.Name, p.Privilege, p.ExpiresAt, p.Expire)
		}
	}
	switch {
	case cfg.Demo:
		fmt.Fprintln(w, "signature   not checked (no certificate configured)")
	case in.SignatureValid:
		fmt.Fprintln(w, "signature   valid for the configured certificate")
	case !in.AppIDMatches:
		fmt.Fprintf(w, "signature   INVALID (the token is for app %s, the configured app is %s)\n", in.AppID, cfg.AppID)
	default:
		fmt.Fprintln(w, "signature   INVALID for the configured certificate")
	}
}
