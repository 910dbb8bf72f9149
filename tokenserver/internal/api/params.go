package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"signaling-auth/tokenserver/internal/accesstoken"
)

// params collects every bad field of one request, so a client learns about
// all of them at once.
type params []InvalidParam

func (p *params) add(name, reason string) { *p = append(*p, InvalidParam{Name: name, Reason: reason}) }

func (p params) has(name string) bool {
	for _, e := range p {
		if e.Name == name {
			return true
		}
	}
	return false
}

// check adds a stand-alone validator's verdict on a field not yet reported.
// Handlers use it instead of minting once a request is known to be bad, so
// that a bad request still hears about every field but costs no token.
func (p *params) check(name string, err error) {
	if err != nil && !p.has(name) {
		p.add(name, err.Error())
	}
}

// merge adds the engine's complaints, renamed to the request's field names,
// skipping fields already reported (the engine saw a placeholder for those).
// An error that is not about parameters is returned as is.
func (p *params) merge(err error, names map[string]string) error {
	if err == nil {
		return nil
	}
	var ipe *accesstoken.InvalidParamsError
	if !errors.As(err, &ipe) {
		return err
	}
	for _, e := range ipe.Params {
		name := e.Name
		if n, ok := names[name]; ok {
			name = n
		}
		if !p.has(name) {
			p.add(name, e.Reason)
		}
	}
	return nil
}

// quote shows a client's value in a reason: escaped, and cut short so a
// 16 KB parameter does not come back as a 16 KB error.
func quote(s string) string {
	const max = 40
	if len(s) > max {
		return strconv.Quote(s[:max]) + "…"
	}
	return strconv.Quote(s)
}

// expiry turns a lifetime asked for in seconds into the engine's uint32.
// Absent means the configured default; anything outside 1..max is refused,
// never clamped, and the reason names the maximum.
type expiry struct {
	def, max time.Duration
}

func (e expiry) maxSeconds() uint64 { return uint64(e.max / time.Second) }

// fromQuery reads the values of ?name=N (absent or empty: default). A
// repeated parameter is refused: which one would the client have meant?
func (e expiry) fromQuery(vals []string, name string, bad *params) uint32 {
	switch {
	case len(vals) == 0 || (len(vals) == 1 && vals[0] == ""):
		return uint32(e.def / time.Second)
	case len(vals) > 1:
		bad.add(name, "must be given once")
		return 1
	}
	return e.parse(vals[0], name, bad)
}

// parse checks a decimal number of seconds.
func (e expiry) parse(s, name string, bad *params) uint32 {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		bad.add(name, "must be a whole number of seconds (got "+quote(s)+")")
		return 1
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil { // only overflow is left
		n = ^uint64(0)
	}
	return e.check(n, s, name, bad)
}

// fromJSON checks a JSON number of seconds; zero means default when
// zeroIsDefault (the compat /getToken, whose clients send 0 for "unset").
func (e expiry) fromJSON(n *int64, zeroIsDefault bool, name string, bad *params) uint32 {
	switch {
	case n == nil || (*n == 0 && zeroIsDefault):
		return uint32(e.def / time.Second)
	case *n < 1:
		bad.add(name, "must be at least 1 second (got "+strconv.FormatInt(*n, 10)+")")
		return 1
	}
	return e.check(uint64(*n), strconv.FormatInt(*n, 10), name, bad)
}

func (e expiry) check(n uint64, raw, name string, bad *params) uint32 {
	switch {
	case n < 1:
		bad.add(name, "must be at least 1 second (got 0)")
		return 1
	case n > e.maxSeconds():
		bad.add(name, fmt.Sprintf("must be at most %d seconds (%s), the server's maximum (got %s)",
			e.maxSeconds(), e.max, cut(raw)))
		return 1
	}
	return uint32(n)
}

func cut(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// parseRole accepts the names and numbers existing token servers accept:
// publisher/1, and subscriber/2 (the Node server calls it audience).
func parseRole(s, name string, bad *params) accesstoken.Role {
	switch s {
	case "publisher", "1":
		return accesstoken.RolePublisher
	case "subscriber", "audience", "2":
		return accesstoken.RoleSubscriber
	}
	bad.add(name, "must be publisher or subscriber (or 1, 2) (got "+quote(s)+")")
	return accesstoken.RolePublisher
}

// rtcUID reads an RTC uid, the one place that does: a decimal uint32
// (digits only, no sign), 0 meaning any user. ok is false for anything else,
// which /getToken and /v1/tokens then take for a user account.
func rtcUID(s string) (uid uint32, ok bool) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, false
	}
	return uint32(n), true
}

// parseRTCUID is rtcUID for a field that must hold a uid.
func parseRTCUID(s, name string, bad *params) uint32 {
	n, ok := rtcUID(s)
	if !ok {
		bad.add(name, "must be a number 0-4294967295 (got "+quote(s)+")")
	}
	return n
}

// jsonField is one member a JSON request body may have.
type jsonField struct {
	name string
	dst  any // *string, **int64 or an objectField
}

var errNotObject = errors.New("request body must be a JSON object")

// bodyRules are the two ways a route reads its JSON body. Native routes
// (strict) want Content-Type application/json and refuse unknown members;
// the compatible POST /getToken reads JSON whatever the Content-Type says
// (fetch sends text/plain, curl -d form-urlencoded) and ignores unknown
// members, as agora-token-service does.
type bodyRules struct{ strict bool }

var (
	strictBody = bodyRules{strict: true}
	compatBody = bodyRules{strict: false}
)

// decodeJSON reads a JSON object into fields: it refuses, when strict, a
// wrong content type (415), always a body over the limit (413), bad JSON and
// wrongly typed members, and when strict unknown members (400, every one of
// them named). It answers the client itself and returns false when the
// request is unusable.
func decodeJSON(c *gin.Context, rules bodyRules, fields ...jsonField) bool {
	if rules.strict && !isJSON(c.GetHeader("Content-Type")) {
		got := c.GetHeader("Content-Type")
		if got == "" {
			got = "none"
		}
		writeProblem(c, http.StatusUnsupportedMediaType,
			"Content-Type must be application/json (got "+quote(got)+")")
		return false
	}
	body, err := io.ReadAll(c.Request.Body)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		writeProblem(c, http.StatusRequestEntityTooLarge,
			fmt.Sprintf("request body must be at most %d bytes", tooLarge.Limit))
		return false
	}
	if err != nil {
		writeProblem(c, http.StatusBadRequest, "could not read the request body")
		return false
	}
	bad, err := decodeObject(body, rules, fields)
	if err != nil {
		writeProblem(c, http.StatusBadRequest, err.Error())
		return false
	}
	if len(bad) > 0 {
		badRequest(c, bad)
		return false
	}
	return true
}

// decodeObject is decodeJSON without HTTP: a malformed body is an error, bad
// members are listed in params.
func decodeObject(body []byte, rules bodyRules, fields []jsonField) (params, error) {
	var members map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&members); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return nil, errNotObject
		case errors.As(err, &syn):
			return nil, fmt.Errorf("request body is not valid JSON: %s (at byte %d)", syn.Error(), syn.Offset)
		case errors.As(err, &typ):
			return nil, errNotObject
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, errors.New("request body is not valid JSON: it ends too early")
		default:
			return nil, errors.New("request body is not valid JSON: " + err.Error())
		}
	}
	if members == nil { // the body was `null`
		return nil, errNotObject
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("request body must hold exactly one JSON object")
	}
	var bad params
	known := make(map[string]bool, len(fields))
	for _, f := range fields {
		known[f.name] = true
		raw, ok := members[f.name]
		if !ok || string(raw) == "null" {
			continue
		}
		switch dst := f.dst.(type) {
		case *string:
			if err := json.Unmarshal(raw, dst); err != nil {
				bad.add(f.name, "must be a string")
			}
		case **int64:
			var n int64
			if err := json.Unmarshal(raw, &n); err != nil {
				bad.add(f.name, "must be a whole number")
				continue
			}
			*dst = &n
		case objectField:
			if reason := dst.decode(raw); reason != "" {
				bad.add(f.name, reason)
			}
		default:
			panic("api: decodeObject: unsupported field type") // a programming error, caught by tests
		}
	}
	if !rules.strict {
		return bad, nil
	}
	var unknown []string
	for name := range members {
		if !known[name] {
			unknown = append(unknown, name)
		}
	}
	slices.Sort(unknown)
	for _, name := range unknown {
		if name == "" {
			name = `""` // a member with an empty name; say so rather than name nothing
		}
		bad = append(bad, InvalidParam{Name: cut(name), Reason: "unknown field"})
	}
	return bad, nil
}

// objectField is a member holding a JSON object of a fixed shape; decode
// fills it from raw or says, in one reason, what the member must look like.
type objectField interface {
	decode(raw json.RawMessage) (reason string)
}

// strictObject decodes raw into dst refusing unknown members, and reports a
// mismatch as shape, naming the first offending member when it can.
func strictObject(raw json.RawMessage, dst any, shape string) string {
	// encoding/json matches member names in any letter case; on /v1 a
	// name is exact, so {"JOIN": 5} is an unknown member, not join.
	if name, ok := inexactName(raw, reflect.TypeOf(dst)); ok {
		return shape + " (unknown member " + cut(strconv.Quote(name)) + ")"
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil {
		return ""
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) && typ.Field != "" {
		return shape + " (" + cut(typ.Field) + " is " + typ.Value + ")"
	}
	if rest, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return shape + " (unknown member " + cut(rest) + ")"
	}
	return shape
}

// inexactName finds, in raw decoded as t, the first object member whose
// name is not exactly a json name of t's struct fields. Shapes that do not
// match t are left for the decoder to report.
func inexactName(raw json.RawMessage, t reflect.Type) (string, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		var members map[string]json.RawMessage
		if json.Unmarshal(raw, &members) != nil {
			return "", false
		}
		fields := make(map[string]reflect.Type, t.NumField())
		for f := range t.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" {
				name = f.Name
			}
			if name != "-" && f.IsExported() {
				fields[name] = f.Type
			}
		}
		for _, name := range slices.Sorted(maps.Keys(members)) {
			ft, ok := fields[name]
			if !ok {
				return name, true
			}
			if inner, bad := inexactName(members[name], ft); bad {
				return inner, true
			}
		}
	case reflect.Map:
		var members map[string]json.RawMessage
		if json.Unmarshal(raw, &members) != nil {
			return "", false
		}
		for _, name := range slices.Sorted(maps.Keys(members)) {
			if inner, bad := inexactName(members[name], t.Elem()); bad {
				return inner, true
			}
		}
	case reflect.Slice, reflect.Array:
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return "", false
		}
		for _, item := range items {
			if inner, bad := inexactName(item, t.Elem()); bad {
				return inner, true
			}
		}
	}
	return "", false
}

func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}
