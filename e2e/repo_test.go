package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// maxTrackedFileBytes is the largest file git may track: the biggest source or data file
// the repository needs is under 30 KB, so anything near a megabyte is build output or a
// vendored blob that should come from its registry at build time.
const maxTrackedFileBytes = 1 << 20

// executableMagic are the first bytes of compiled programs (ELF, Mach-O both byte orders
// and fat, PE). A shell script with its mode bit set is fine; a binary is not.
var executableMagic = [][]byte{
	{0x7f, 'E', 'L', 'F'},
	{0xfe, 0xed, 0xfa, 0xce}, {0xfe, 0xed, 0xfa, 0xcf},
	{0xce, 0xfa, 0xed, 0xfe}, {0xcf, 0xfa, 0xed, 0xfe},
	{0xca, 0xfe, 0xba, 0xbe},
	{'M', 'Z'},
}

// trackedFileProblem says why a tracked file does not belong in git, or "".
func trackedFileProblem(name string, size int64, head []byte) string {
	if size > maxTrackedFileBytes {
		return name + ": larger than 1 MiB (build output or a blob that should be fetched)"
	}
	for _, m := range executableMagic {
		if bytes.HasPrefix(head, m) {
			return name + ": a compiled executable (build output never goes into git)"
		}
	}
	return ""
}

func TestNoTrackedFileIsABinaryOrLargerThanOneMiB(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("git", "-C", root, "ls-files", "-z").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	names := strings.Split(strings.TrimRight(string(out), "\x00"), "\x00")
	if len(names) < 100 {
		t.Fatalf("git ls-files listed %d files; expected the whole repository", len(names))
	}
	for _, name := range names {
		f, err := os.Open(filepath.Join(root, name))
		if err != nil {
			continue // deleted in the work tree: not what git will commit from here
		}
		info, _ := f.Stat()
		head := make([]byte, 4)
		n, _ := f.Read(head)
		f.Close()
		if p := trackedFileProblem(name, info.Size(), head[:n]); p != "" {
			t.Error(p)
		}
	}
}

func TestTrackedFileProblemCatchesBinariesAndLargeFiles(t *testing.T) {
	cases := []struct {
		name  string
		size  int64
		head  []byte
		wrong bool
	}{
		{"an ELF binary", 4 << 20, []byte{0x7f, 'E', 'L', 'F'}, true},
		{"a small ELF binary", 900, []byte{0x7f, 'E', 'L', 'F'}, true},
		{"a Mach-O binary", 900, []byte{0xcf, 0xfa, 0xed, 0xfe}, true},
		{"a Windows executable", 900, []byte("MZ\x90\x00"), true},
		{"a file one byte over 1 MiB", maxTrackedFileBytes + 1, []byte("abcd"), true},
		{"a file of exactly 1 MiB", maxTrackedFileBytes, []byte("abcd"), false},
		{"a shell script", 4000, []byte("#!/u"), false},
		{"an empty file", 0, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := trackedFileProblem("f", c.size, c.head) != ""
			if got != c.wrong {
				t.Errorf("trackedFileProblem = %v, want %v", got, c.wrong)
			}
		})
	}
}

// Building a program where docs/corsproxy.md says (go build in its directory) must not
// leave a file git would pick up.
func TestProgramBinariesBuiltInTheirDirectoryAreIgnored(t *testing.T) {
	root, _ := filepath.Abs("..")
	for _, p := range opsPrograms {
		name := p + "/" + p
		if err := exec.Command("git", "-C", root, "check-ignore", "-q", name).Run(); err != nil {
			t.Errorf("%s (what go build writes in %s/) is not ignored by .gitignore", name, p)
		}
	}
}
