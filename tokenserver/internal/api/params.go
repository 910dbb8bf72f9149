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

	"github.com/gin-gonic/gin"

	"signaling-auth/tokenserver/internal/tokens"
)

// params collects every bad field of one request (tokens.Params), so a
// client learns about all of them at once.
type params = tokens.Params

// quote shows a client's value in a reason, escaped and cut short.
func quote(s string) string { return tokens.Quote(s) }

// cut shortens a client's name for a reason, as quote does.
func cut(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
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
				bad.Add(f.name, "must be a string")
			}
		case **int64:
			var n int64
			if err := json.Unmarshal(raw, &n); err != nil {
				bad.Add(f.name, "must be a whole number")
				continue
			}
			*dst = &n
		case objectField:
			if reason := dst.decode(raw); reason != "" {
				bad.Add(f.name, reason)
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
