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
	"signaling-auth/tokenserver/internal/api"
	"signaling-auth/tokenserver/internal/config"
)

// mintFlags maps the native API's field names to the mint subcommand's flags,
// so an error names the flag the user typed.
var mintFlags = map[string]string{
	"type": "--type", "uid": "--uid", "channel": "--channel", "role": "--role",
	"rtmUid": "--rtmuid", "expiresIn": "--expire",
}

// mintOptions are the mint flags that POST /v1/tokens does not take yet; any of them
// makes mint build the token itself (mintExtended).
type mintOptions struct {
	read, write []string  // RESOURCE=NAME, one name each
	privExpire  [4]string // join, publish audio, publish video, publish data
}

// privFlags are the per-privilege expiry flags, in RTCPrivilegeExpires order, and the
// parameter names accesstoken reports them under.
var privFlags = [4]struct{ flag, param, help string }{
	{"join-expire", accesstoken.ParamJoinChannelExpire, "rtc: lifetime of the join-channel privilege (seconds or a duration,\n" +
		"at most --expire; default --expire). Any of the four --*-expire privilege flags\n" +
		"makes a token with all four RTC privileges, each with its own lifetime"},
	{"publish-audio-expire", accesstoken.ParamPublishAudioExpire, "rtc: lifetime of the publish-audio privilege"},
	{"publish-video-expire", accesstoken.ParamPublishVideoExpire, "rtc: lifetime of the publish-video privilege"},
	{"publish-data-expire", accesstoken.ParamPublishDataExpire, "rtc: lifetime of the publish-data-stream privilege"},
}

func (o mintOptions) used(q api.MintRequest) bool {
	return len(o.read)+len(o.write) > 0 || o.privExpire != [4]string{} || (q.Type == "signaling" && q.Channel != "")
}

// mint prints one token on stdout, through the same checks as POST /v1/tokens.
func mint(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var q api.MintRequest
	var expire string
	var opt mintOptions
	fs := flagSet("mint", func(fs *pflag.FlagSet) {
		fs.StringVar(&q.Type, "type", "signaling", "token type: signaling, rtc, rte, chat-user or chat-app")
		fs.StringVar(&q.UID, "uid", "", "user ID (rtc: a numeric uid or a user account; 0 for any user)")
		fs.StringVar(&q.Channel, "channel", "", "RTC channel (rtc, rte); for signaling: also join this stream channel\n(RTC join + publish-data for the user, as agora-token-service's RTM token)")
		fs.StringVar(&q.Role, "role", "", "publisher (default) or subscriber (rtc, rte)")
		fs.StringVar(&q.RTMUID, "rtmuid", "", "Signaling user ID for rte (default: --uid)")
		fs.StringVar(&expire, "expire", "", "lifetime in seconds or as a duration (default: token.default_expiry)")
		fs.StringArrayVar(&opt.read, "read", nil, "signaling: may read RESOURCE=NAME (repeat; a wildcard like room-* is a name).\n"+
			"Makes an RTM2 token (service 8) limited to the listed resources; RESOURCE is\n"+
			"messageChannels, streamChannels, groupChannels, serverGroups or users.\n"+
			"At most 64 names per list and 4096 bytes of names in all.\n"+
			"Agora enables RTM2 permissions on a project only on request")
		fs.StringArrayVar(&opt.write, "write", nil, "signaling: may write RESOURCE=NAME (repeat), as --read")
		for i, f := range privFlags {
			fs.StringVar(&opt.privExpire[i], f.flag, "", f.help)
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
	if expire != "" && !opt.used(q) {
		n, err := flagSeconds("expire", expire)
		if err != nil {
			return err
		}
		q.ExpiresIn = &n
	}
	minter, err := newMinter(cfg)
	if err != nil {
		return err
	}
	if opt.used(q) {
		token, err := mintExtended(minter, cfg, q, expire, opt)
		if err != nil {
			return err
		}
		if cfg.Demo {
			fmt.Fprintln(stderr, prog+" mint: "+demoWarning)
		}
		fmt.Fprintln(stdout, token)
		return nil
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

// flagSeconds reads a lifetime flag: a whole number of seconds or a duration.
func flagSeconds(flag, v string) (int64, error) {
	d, err := settings.ParseDuration(v)
	if err != nil || d%time.Second != 0 {
		return 0, fmt.Errorf("%s mint: --%s: must be a whole number of seconds or a duration like 1h (got %q)", prog, flag, v)
	}
	return int64(d / time.Second), nil
}

// mintExtended mints the tokens that only the CLI offers so far: Signaling with RTM2
// permissions or with a stream channel, and RTC with per-privilege lifetimes. It applies
// the server's expiry settings as POST /v1/tokens does.
func mintExtended(m *accesstoken.Minter, cfg config.Config, q api.MintRequest, expire string, opt mintOptions) (string, error) {
	fail := func(format string, args ...any) (string, error) {
		return "", fmt.Errorf("%s mint: "+format, append([]any{prog}, args...)...)
	}
	seconds := func(flag, v string, def int64) (uint32, error) {
		n := def
		if v != "" {
			var err error
			if n, err = flagSeconds(flag, v); err != nil {
				return 0, err
			}
		}
		if limit := int64(cfg.MaxExpiry / time.Second); n > limit {
			return 0, fmt.Errorf("%s mint: --%s: must be at most %d seconds (%s), the server's maximum (got %d)", prog, flag, limit, cfg.MaxExpiry, n)
		}
		return uint32(max(n, 0)), nil // accesstoken refuses 0 under the flag's name
	}
	tokenExpire, err := seconds("expire", expire, int64(cfg.DefaultExpiry/time.Second))
	if err != nil {
		return "", err
	}
	hasPerms := len(opt.read)+len(opt.write) > 0
	hasPriv := opt.privExpire != [4]string{}
	var minted accesstoken.Minted
	switch {
	case q.Type == "signaling" && !hasPriv:
		if q.Role != "" || q.RTMUID != "" {
			return fail("--role and --rtmuid are not used by type signaling; leave them out")
		}
		if hasPerms && q.Channel != "" {
			return fail("--channel and --read/--write make different Signaling tokens; give one of them")
		}
		if q.Channel != "" {
			minted, err = m.SignalingWithChannel(q.UID, q.Channel, tokenExpire)
			break
		}
		perms := accesstoken.Permissions{}
		for _, l := range []struct {
			flag string
			vals []string
		}{{"read", opt.read}, {"write", opt.write}} {
			for _, v := range l.vals {
				res, name, ok := strings.Cut(v, "=")
				if !ok {
					return fail("--%s: want RESOURCE=NAME, e.g. streamChannels=room-1 (got %q)", l.flag, v)
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
		minted, err = m.SignalingWithPermissions(q.UID, tokenExpire, perms)
	case q.Type == "rtc" && !hasPerms:
		if q.Role != "" || q.RTMUID != "" {
			return fail("--role and --rtmuid are not used with per-privilege lifetimes (the token has all four privileges); leave them out")
		}
		var p [4]uint32
		for i, f := range privFlags {
			if p[i], err = seconds(f.flag, opt.privExpire[i], int64(tokenExpire)); err != nil {
				return "", err
			}
		}
		pe := accesstoken.RTCPrivilegeExpires{JoinChannel: p[0], PublishAudio: p[1], PublishVideo: p[2], PublishData: p[3]}
		if uid, perr := strconv.ParseUint(q.UID, 10, 32); perr == nil {
			minted, err = m.RTCWithUIDAndPrivilege(q.Channel, uint32(uid), tokenExpire, pe)
		} else {
			minted, err = m.RTCWithAccountAndPrivilege(q.Channel, q.UID, tokenExpire, pe)
		}
	default:
		return fail("--read and --write work with --type signaling, the --*-expire privilege flags with --type rtc")
	}
	var ipe *accesstoken.InvalidParamsError
	if errors.As(err, &ipe) {
		lines := make([]string, len(ipe.Params))
		for i, p := range ipe.Params {
			lines[i] = fmt.Sprintf("%s mint: %s: %s", prog, extendedFlag(p.Name), p.Reason)
		}
		return "", errors.New(strings.Join(lines, "\n"))
	}
	if err != nil {
		return fail("%v", err)
	}
	return minted.Token, nil
}

// extendedFlag names the flag behind an accesstoken parameter name; permissions.R.read[i]
// becomes "--read R (name i+1)".
func extendedFlag(param string) string {
	for _, f := range privFlags {
		if param == f.param {
			return "--" + f.flag
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
	switch param {
	case "permissions":
		return "--read/--write"
	case "expire":
		return "--expire"
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
	in := inspection{Inspection: api.Inspect(t, m, time.Now()), Services: inspectServices(t)}
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

// inspection is what POST /v1/tokens/inspect answers, with every service AccessToken2
// defines described: api.Inspect names only rtc, rtm and chat, and has no field for
// aPaaS's role or RTM2's permissions. Its Services replace the embedded ones in JSON.
type inspection struct {
	api.Inspection
	Services []inspectedService `json:"services"`
}

// inspectedService is api.InspectedService plus the fields of the other services.
type inspectedService struct {
	Type        uint16                   `json:"type"`
	Name        string                   `json:"name"`
	Channel     string                   `json:"channel,omitempty"`
	UID         string                   `json:"uid,omitempty"`
	Role        *int16                   `json:"role,omitempty"` // aPaaS
	Privileges  []api.InspectedPrivilege `json:"privileges"`
	Permissions []inspectedPermission    `json:"permissions,omitempty"` // RTM2
}

// inspectedPermission is one list of an RTM2 service: which resources may be read or
// written.
type inspectedPermission struct {
	ResourceType   uint16   `json:"resourceType"`
	Resource       string   `json:"resource"`
	PermissionType uint16   `json:"permissionType"`
	Permission     string   `json:"permission"`
	Names          []string `json:"names"`
}

func inspectServices(t *accesstoken.Token) []inspectedService {
	out := []inspectedService{}
	for _, s := range t.Services {
		is := inspectedService{Type: uint16(s.Type), Name: s.Type.String(), Channel: s.Channel, UID: s.UserID,
			Privileges: []api.InspectedPrivilege{}}
		if s.Type == accesstoken.ServiceAPaaS {
			is.Role = &s.APaaSRole
		}
		for _, p := range s.Privileges {
			is.Privileges = append(is.Privileges, api.InspectedPrivilege{
				Privilege: uint16(p.Privilege),
				Name:      s.Type.PrivilegeName(p.Privilege),
				Expire:    p.Expire,
				ExpiresAt: t.IssuedAt().Add(time.Duration(p.Expire) * time.Second).UTC().Format(time.RFC3339),
			})
		}
		for _, r := range s.Permissions {
			for _, l := range r.Lists {
				is.Permissions = append(is.Permissions, inspectedPermission{
					ResourceType: uint16(r.Resource), Resource: r.Resource.String(),
					PermissionType: uint16(l.Permission), Permission: l.Permission.String(), Names: l.Names,
				})
			}
		}
		out = append(out, is)
	}
	return out
}

func printInspection(w io.Writer, in inspection, cfg config.Config) {
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
