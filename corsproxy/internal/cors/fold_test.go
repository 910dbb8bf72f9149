package cors

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestFoldRequestHeaders(t *testing.T) {
	tests := []struct {
		name string
		in   []string // Access-Control-Request-Headers lines; nil: absent
		want []string // after folding; nil: absent
	}{
		{"an absent header stays absent", nil, nil},
		{"a browser's sorted lower-case list is kept as it is", []string{"authorization,content-type"}, []string{"authorization,content-type"}},
		{"mixed case is lower-cased", []string{"X-Requested-With"}, []string{"x-requested-with"}},
		{"an unsorted list is sorted", []string{"x-requested-with, content-type"}, []string{"content-type,x-requested-with"}},
		{"a header split over several lines by a gateway becomes one line", []string{"x-requested-with", "Content-Type"}, []string{"content-type,x-requested-with"}},
		{"duplicates are removed", []string{"content-type,Content-Type, content-type"}, []string{"content-type"}},
		{"empty elements and tabs are dropped", []string{",\tcontent-type ,,"}, []string{"content-type"}},
		{"a header with only empty elements is removed", []string{" , ,"}, nil},
		{"a header over the size bound is left for rs/cors to refuse", []string{strings.Repeat("x-a,", 1100)}, []string{strings.Repeat("x-a,", 1100)}},
		{"a header with too many names is left for rs/cors to refuse", []string{strings.Repeat("content-type,", 65)}, []string{strings.Repeat("content-type,", 65)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.in != nil {
				h["Access-Control-Request-Headers"] = slices.Clone(tt.in)
			}
			foldRequestHeaders(h)
			got, ok := h["Access-Control-Request-Headers"]
			if ok != (tt.want != nil) || !slices.Equal(got, tt.want) {
				t.Errorf("folded = %q (present %v), want %q", got, ok, tt.want)
			}
		})
	}
}
