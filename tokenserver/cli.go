package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"signaling-auth/settings"
	"signaling-auth/tokenserver/internal/accesstoken"
	"signaling-auth/tokenserver/internal/config"
	"signaling-auth/tokenserver/internal/tokens"
)

// mintFlags maps the native API's field names to the mint subcommand's flags,
// so an error names the flag the user typed.
var mintFlags = map[string]string{
	"type": "--type", "uid": "--uid", "channel": "--channel", "role": "--role",
	"rtmUid": "--rtmuid", "expiresIn": "--expire", "permissions": "--read/--write",
	"privilegeExpiresIn": "the --*-expire privilege flags",
}

// privFlags are the per-privilege expiry flags and the privilegeExpiresIn
// members of POST /v1/tokens they set.
var privFlags = [4]struct{ flag, member, help string }{
	{"join-expire", "join", "rtc, convoai, stt: lifetime of the join-channel privilege (seconds or a\n" +
		"duration, at most --expire; default --expire). For rtc, any of the four --*-expire\n" +
		"privilege flags makes a token with all four RTC privileges, each with its own lifetime"},
	{"publish-audio-expire", "publishAudio", "rtc, convoai, stt: lifetime of the publish-audio privilege"},
	{"publish-video-expire", "publishVideo", "rtc, convoai, stt: lifetime of the publish-video privilege"},
	{"publish-data-expire", "publishData", "rtc, convoai, stt: lifetime of the publish-data-stream privilege"},
}

// routeTypeWords are the words the HTTP routes use for a token type (/rtm/{uid},
// /chat/account/{uid}), which the CLI takes too.
var routeTypeWords = map[string]string{"rtm": "signaling", "chat-account": "chat-user"}

// mint prints one token on stdout, through tokens.Mint, the function behind
// POST /v1/tokens.
func mint(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var q tokens.MintRequest
	var expire string
	var read, write []string // RESOURCE=NAME
	var privExpire [4]string
	fs := flagSet("mint", func(fs *pflag.FlagSet) {
		fs.StringVar(&q.Type, "type", "signaling", "token type: signaling, rtc, rte, chat-user, chat-app, convoai or stt\n"+
			"(the HTTP route words rtm and chat-account also work;\n"+
			" convoai, stt: the token Agora's Conversational AI and real-time STT REST APIs take,\n"+
			"for the agent's --channel and --uid, with Signaling login for --rtmuid)")
		fs.StringVar(&q.UID, "uid", "", "user ID (rtc: a numeric uid or a user account; 0 for any user)")
		fs.StringVar(&q.Channel, "channel", "", "RTC channel (rtc, rte, convoai, stt); for signaling: also join this stream channel\n(RTC join + publish-data for the user, as agora-token-service's RTM token)")
		fs.StringVar(&q.Role, "role", "", "publisher (default) or subscriber (rtc, rte, convoai, stt)")
		fs.StringVar(&q.RTMUID, "rtmuid", "", "Signaling user ID for rte, convoai and stt (default: --uid)")
		fs.StringVar(&expire, "expire", "", "lifetime in seconds or as a duration (default: token.default_expiry)")
		fs.StringArrayVar(&read, "read", nil, "signaling: may read RESOURCE=NAME (repeat; a wildcard like room-* is a name).\n"+
			"Makes an RTM2 token (service 8) limited to the listed resources; RESOURCE is\n"+
			"messageChannels, streamChannels, groupChannels, serverGroups or users.\n"+
			"At most 64 names per list and 4096 bytes of names in all.\n"+
			"Agora enables RTM2 permissions on a project only on request")
		fs.StringArrayVar(&write, "write", nil, "signaling: may write RESOURCE=NAME (repeat), as --read")
		for i, f := range privFlags {
			fs.StringVar(&privExpire[i], f.flag, "", f.help)
		}
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
	if t, ok := routeTypeWords[q.Type]; ok {
		q.Type = t
	}
	if expire != "" {
		n, err := flagSeconds("expire", expire)
		if err != nil {
			return err
		}
		q.ExpiresIn = &n
	}
	if q.Permissions, err = flagPermissions(read, write); err != nil {
		return err
	}
	if privExpire != [4]string{} {
		q.PrivilegeExpiresIn = &tokens.PrivilegeExpiresIn{}
		dst := [4]**int64{&q.PrivilegeExpiresIn.Join, &q.PrivilegeExpiresIn.PublishAudio,
			&q.PrivilegeExpiresIn.PublishVideo, &q.PrivilegeExpiresIn.PublishData}
		for i, f := range privFlags {
			if privExpire[i] == "" {
				continue
			}
			n, err := flagSeconds(f.flag, privExpire[i])
			if err != nil {
				return err
			}
			*dst[i] = &n
		}
	}
	minter, err := newMinter(cfg)
	if err != nil {
		return err
	}
	resp, bad, err := tokens.Mint(minter, tokens.Limits{DefaultExpiry: cfg.DefaultExpiry, MaxExpiry: cfg.MaxExpiry}, q)
	if err != nil {
		return fmt.Errorf("%s mint: %v", prog, err)
	}
	if len(bad) > 0 {
		lines := make([]string, len(bad))
		for i, p := range bad {
			lines[i] = fmt.Sprintf("%s mint: %s: %s", prog, flagOf(p.Name), p.Reason)
		}
		return errors.New(strings.Join(lines, "\n"))
	}
	if cfg.Demo {
		fmt.Fprintln(stderr, prog+" mint: "+demoWarning(cfg))
	}
	fmt.Fprintln(stdout, resp.Token)
	return nil
}

// flagPermissions turns the --read and --write RESOURCE=NAME values into
// MintRequest.Permissions; none gives nil (a plain Signaling token).
func flagPermissions(read, write []string) (accesstoken.Permissions, error) {
	if len(read)+len(write) == 0 {
		return nil, nil
	}
	perms := accesstoken.Permissions{}
	for _, l := range []struct {
		flag string
		vals []string
	}{{"read", read}, {"write", write}} {
		for _, v := range l.vals {
			res, name, ok := strings.Cut(v, "=")
			if !ok {
				return nil, fmt.Errorf("%s mint: --%s: want RESOURCE=NAME, e.g. streamChannels=room-1 (got %q)", prog, l.flag, v)
			}
			a := perms[res]
			if l.flag == "read" {
				a.Read = append(a.Read, name)
			} else {
				a.Write = append(a.Write, name)
			}
			perms[res] = a
		}
	}
	return perms, nil
}

// flagSeconds reads a lifetime flag: a whole number of seconds or a duration.
func flagSeconds(flag, v string) (int64, error) {
	d, err := settings.ParseDuration(v)
	if err != nil || d%time.Second != 0 {
		return 0, fmt.Errorf("%s mint: --%s: must be a whole number of seconds or a duration like 1h (got %q)", prog, flag, v)
	}
	return int64(d / time.Second), nil
}

// flagOf names the flag behind a POST /v1/tokens field name:
// privilegeExpiresIn.join is --join-expire, permissions.R.read[i] is
// "--read R (name i+1)".
func flagOf(param string) string {
	if member, ok := strings.CutPrefix(param, "privilegeExpiresIn."); ok {
		for _, f := range privFlags {
			if member == f.member {
				return "--" + f.flag
			}
		}
	}
	if rest, ok := strings.CutPrefix(param, "permissions."); ok {
		res, list, _ := strings.Cut(rest, ".")
		list, index, indexed := strings.Cut(list, "[")
		switch {
		case list == "":
			return "--read/--write " + res
		case indexed:
			n, _ := strconv.Atoi(strings.TrimSuffix(index, "]"))
			return fmt.Sprintf("--%s %s (name %d)", list, res, n+1)
		}
		return "--" + list + " " + res
	}
	if f, ok := mintFlags[param]; ok {
		return f
	}
	return param
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
	var m *accesstoken.Minter // demo mode: no certificate to check against
	if !cfg.Demo {
		if m, err = newMinter(cfg); err != nil {
			return err
		}
	}
	in := tokens.Inspect(t, m, time.Now())
	in.Mode = tokens.Mode(cfg.Demo)
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

func printInspection(w io.Writer, in tokens.Inspection, cfg config.Config) {
	printInspectionFields(w, in)
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

// printInspectionFields prints what the token holds, as inspect and doctor show it.
func printInspectionFields(w io.Writer, in tokens.Inspection) {
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
		if s.Role != nil {
			fmt.Fprintf(w, " role %d", *s.Role)
		}
		if s.UnreadBytes > 0 {
			fmt.Fprintf(w, " then %d bytes this version cannot read", s.UnreadBytes)
		}
		fmt.Fprintln(w)
		for _, p := range s.Privileges {
			fmt.Fprintf(w, "  privilege %s (%d) until %s (expire %d s)\n", p.Name, p.Privilege, p.ExpiresAt, p.Expire)
		}
		for _, p := range s.Permissions {
			fmt.Fprintf(w, "  may %s %s:", p.Permission, p.Resource)
			for _, n := range p.Names {
				fmt.Fprintf(w, " %q", n)
			}
			fmt.Fprintln(w)
		}
	}
	if in.UnreadServices > 0 {
		fmt.Fprintf(w, "            %d more services declared after it, not read\n", in.UnreadServices)
	}
}
