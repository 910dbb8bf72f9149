package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"signaling-auth/tokenserver/internal/tokens"
)

// doctorFlags maps the diagnose route's field names to the doctor's flags,
// so an error names the flag the user typed.
var doctorFlags = map[string]string{
	"token": "TOKEN", "service": "--service", "channel": "--channel", "uid": "--uid",
	"userAccount": "--user-account", "action": "--action", "at": "--at",
}

// errRefused is what doctor returns when the token will be refused, so the
// exit status says it to scripts.
var errRefused = errors.New(prog + " doctor: the token will be refused")

// doctor says whether Agora will accept a token for what the user means to
// do, and why not, through tokens.Diagnose, the function behind
// POST /v1/tokens/diagnose. It fails (exit status 1) when the token will be
// refused.
func doctor(args []string, getenv func(string) string, stdout io.Writer) error {
	var in tokens.Intent
	var at string
	var asJSON bool
	fs := flagSet("doctor", func(fs *pflag.FlagSet) {
		fs.StringVar(&in.Service, "service", "rtc", "what the token is for: "+strings.Join(tokens.Services, ", ")+" (convoai, stt: Agora's agent REST APIs)")
		fs.StringVar(&in.Channel, "channel", "", "rtc, convoai, stt: the channel the client (or agent) joins")
		fs.StringVar(&in.UID, "uid", "", "the numeric uid the client or agent uses (not with --user-account)")
		fs.StringVar(&in.UserAccount, "user-account", "", "the string user account (rtc, convoai, stt) or user ID (signaling, chat) the client uses")
		fs.StringVar(&in.Action, "action", "", "rtc: join (default), publish-audio, publish-video or publish-data; signaling: login; chat: user (default) or app; convoai, stt: join")
		fs.StringVar(&at, "at", "", "when the client uses the token, RFC 3339 (default: now)")
		fs.BoolVar(&asJSON, "json", false, "print the answer as JSON (as POST /v1/tokens/diagnose answers)")
	})
	cfg, err := load("doctor", fs, args, getenv, stdout)
	if errors.Is(err, errHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%s doctor: want exactly one TOKEN argument (got %d)", prog, fs.NArg())
	}
	var lines []string
	in.At = time.Now()
	if at != "" {
		if in.At, err = time.Parse(time.RFC3339, at); err != nil {
			lines = append(lines, fmt.Sprintf("%s doctor: --at: must be an RFC 3339 time like 2026-01-02T15:04:05Z (got %q)", prog, at))
		}
	}
	var certs tokens.Certificates // demo mode: nothing to check against
	if !cfg.Demo {
		if certs.Primary, err = newMinter(cfg); err != nil {
			return err
		}
		if certs.Secondary, err = newSecondaryMinter(cfg); err != nil {
			return err
		}
	}
	d, bad := tokens.Diagnose(strings.TrimSpace(fs.Arg(0)), in, certs)
	for _, p := range bad {
		name := p.Name
		if f, ok := doctorFlags[name]; ok {
			name = f
		}
		lines = append(lines, fmt.Sprintf("%s doctor: %s: %s", prog, name, p.Reason))
	}
	if len(lines) > 0 {
		return errors.New(strings.Join(lines, "\n"))
	}
	if d.Inspection != nil {
		d.Inspection.Mode = tokens.Mode(cfg.Demo)
	}
	if asJSON {
		b, _ := json.MarshalIndent(struct {
			tokens.Diagnosis
			Mode string `json:"mode"`
		}{d, tokens.Mode(cfg.Demo)}, "", "  ")
		fmt.Fprintln(stdout, string(b))
	} else {
		printDiagnosis(stdout, d, cfg.Demo)
	}
	if d.Verdict == tokens.VerdictRefused {
		return errRefused
	}
	return nil
}

func printDiagnosis(w io.Writer, d tokens.Diagnosis, demo bool) {
	fmt.Fprintf(w, "verdict     %s\n", strings.ToUpper(d.Verdict))
	switch d.SignedBy {
	case "primary":
		fmt.Fprintln(w, "signed by   the configured (primary) certificate")
	case "secondary":
		fmt.Fprintln(w, "signed by   the secondary certificate (agora.app_certificate_secondary)")
	case "none":
		fmt.Fprintln(w, "signed by   neither configured certificate")
	default:
		if demo {
			fmt.Fprintln(w, "signed by   not checked (no certificate configured)")
		} else {
			fmt.Fprintln(w, "signed by   not checked")
		}
	}
	for _, f := range d.Findings {
		fmt.Fprintf(w, "\n[%s] %s\n  want: %s\n  got:  %s\n  fix:  %s\n", f.Code, f.Problem, f.Want, f.Got, f.Fix)
	}
	if d.Token006 != nil {
		fmt.Fprintf(w, "\n006 token   app ID %s, expires at %s\n", d.Token006.AppID, d.Token006.ExpiresAt)
		for _, p := range d.Token006.Privileges {
			fmt.Fprintf(w, "  privilege %s (%d) until %s\n", p.Name, p.Privilege, p.ExpiresAt)
		}
	}
	if d.Inspection != nil {
		fmt.Fprintln(w)
		printInspectionFields(w, *d.Inspection)
	}
}
