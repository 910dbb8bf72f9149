package e2e

// The images Kubernetes pulls: `make images` / `make push`, and a real image build with
// buildah (no Docker engine here, and the base images cannot be pulled, so the final stage
// is built FROM scratch around the binary the replayed build stage makes).

import (
	"crypto/sha256"
	"encoding/json"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestMakeImagesBuildsEachProgramFromTheRoot: `make push` builds each program with its own
// Dockerfile from the repository root (its build context), tags it with the registry and the
// version, then pushes exactly those tags.
func TestMakeImagesBuildsEachProgramFromTheRoot(t *testing.T) {
	root := opsRepoRoot(t)
	cmd := exec.Command("make", "-s", "-n", "push", "VERSION=v9.8.7", "REGISTRY=registry.example.com/sa", "CONTAINER=docker")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "MAKEFLAGS=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make -n push: %v\n%s", err, out)
	}
	var want []string
	for _, prog := range opsPrograms {
		if opsBuildContext[prog] != "." {
			t.Fatalf("%s's build context is %s; this test expects the repository root", prog, opsBuildContext[prog])
		}
		want = append(want, "docker build -f "+prog+"/Dockerfile --build-arg VERSION=v9.8.7 -t registry.example.com/sa/"+prog+":v9.8.7 .")
	}
	for _, prog := range opsPrograms {
		want = append(want, "docker push registry.example.com/sa/"+prog+":v9.8.7")
	}
	if got := strings.Split(strings.TrimSpace(string(out)), "\n"); !slices.Equal(got, want) {
		t.Errorf("make push runs\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The default registry is the chart's default repository prefix.
	cmd = exec.Command("make", "-s", "-n", "images", "VERSION=dev")
	cmd.Dir = root
	cmd.Env = []string{"MAKEFLAGS="}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "REGISTRY=") && !strings.HasPrefix(kv, "CONTAINER=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if out, err = cmd.CombinedOutput(); err != nil {
		t.Fatalf("make -n images: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "-t signaling-auth/webdemo:dev .") {
		t.Errorf("make images without REGISTRY:\n%s\nwant signaling-auth/<program> (values.yaml's image.repository)", out)
	}
}

// buildahImage is the part of `buildah inspect --type image` read here (Docker format, which
// keeps HEALTHCHECK).
type buildahImage struct {
	Docker struct {
		Config struct {
			User         string              `json:"User"`
			Entrypoint   []string            `json:"Entrypoint"`
			ExposedPorts map[string]struct{} `json:"ExposedPorts"`
			Labels       map[string]string   `json:"Labels"`
			Healthcheck  struct {
				Test []string `json:"Test"`
			} `json:"Healthcheck"`
		} `json:"config"`
	} `json:"Docker"`
}

// TestImagesBuildWithBuildah builds each program's image for real: the build stage replayed
// with its exact go build line (VERSION=test), then the Dockerfile's final stage, instruction
// for instruction, by buildah — FROM scratch in place of distroless (no registry here) and
// the binary copied from the build context in place of the build stage. The image must run as
// 65532, expose the program's ports, carry the version label and the healthcheck, and hold the
// very binary, which answers `version` with the stamped version.
func TestImagesBuildWithBuildah(t *testing.T) {
	bin, err := exec.LookPath("buildah")
	if err != nil {
		if inCI() {
			t.Fatal("buildah is not installed (.ci/run installs it)")
		}
		t.Skip("buildah is not installed")
	}
	root := opsRepoRoot(t)
	store := t.TempDir()
	buildah := func(t *testing.T, args ...string) string {
		t.Helper()
		full := append([]string{"--root", filepath.Join(store, "root"), "--runroot", filepath.Join(store, "run"), "--storage-driver", "vfs"}, args...)
		cmd := exec.Command(bin, full...)
		cmd.Env = append(os.Environ(), "BUILDAH_ISOLATION=chroot", "STORAGE_DRIVER=vfs")
		out, err := cmd.Output()
		if err != nil {
			msg := ""
			if ee, ok := err.(*exec.ExitError); ok {
				msg = string(ee.Stderr)
			}
			t.Fatalf("buildah %s: %v\n%s", strings.Join(args, " "), err, msg)
		}
		return strings.TrimSpace(string(out))
	}
	t.Cleanup(func() {
		// vfs layers are plain directories, some read-only: let buildah remove what it made.
		cmd := exec.Command(bin, "--root", filepath.Join(store, "root"), "--runroot", filepath.Join(store, "run"), "--storage-driver", "vfs", "rm", "--all")
		_ = cmd.Run()
		cmd = exec.Command(bin, "--root", filepath.Join(store, "root"), "--runroot", filepath.Join(store, "run"), "--storage-driver", "vfs", "rmi", "--all", "--force")
		_ = cmd.Run()
	})
	exposes := map[string][]string{"tokenserver": {"8081/tcp"}, "corsproxy": {"8080/tcp", "9091/tcp"}, "webdemo": {"9000/tcp"}}
	for _, prog := range opsPrograms {
		t.Run(prog, func(t *testing.T) {
			opsRequirePrograms(t, prog)
			ctxDir := t.TempDir()
			df := opsParseDockerfile(t, filepath.Join(root, prog, "Dockerfile"))
			stages := df.stages()
			var lines []string
			binaryIn := ""
			for _, in := range stages[len(stages)-1] {
				switch {
				case in.cmd == "FROM":
					lines = append(lines, "FROM scratch")
				case in.cmd == "COPY" && strings.HasPrefix(in.args, "--from="):
					w := strings.Fields(in.args)
					if len(w) != 3 {
						t.Fatalf("%s:%d: COPY %s: want one file from the build stage", df.path, in.line, in.args)
					}
					binaryIn = w[2]
					opsReplayBuildStage(t, root, prog, filepath.Join(ctxDir, path.Base(w[1])))
					lines = append(lines, "COPY "+path.Base(w[1])+" "+w[2])
				default:
					lines = append(lines, in.cmd+" "+in.args)
				}
			}
			if binaryIn == "" {
				t.Fatalf("%s: the final stage copies no binary from the build stage", df.path)
			}
			containerfile := filepath.Join(ctxDir, "Containerfile")
			if err := os.WriteFile(containerfile, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			tag := "localhost/signaling-auth/" + prog + ":test"
			buildah(t, "build", "--isolation", "chroot", "--format", "docker", "--build-arg", "VERSION=test", "-f", containerfile, "-t", tag, ctxDir)

			var img buildahImage
			if err := json.Unmarshal([]byte(buildah(t, "inspect", "--type", "image", tag)), &img); err != nil {
				t.Fatal(err)
			}
			c := img.Docker.Config
			if c.User != "65532:65532" {
				t.Errorf("User %q, want 65532:65532 (runAsNonRoot can verify a numeric user)", c.User)
			}
			if !slices.Equal(c.Entrypoint, []string{binaryIn}) {
				t.Errorf("Entrypoint %q, want [%s]", c.Entrypoint, binaryIn)
			}
			var ports []string
			for p := range c.ExposedPorts {
				ports = append(ports, p)
			}
			slices.Sort(ports)
			if !reflect.DeepEqual(ports, exposes[prog]) {
				t.Errorf("exposed %v, want %v", ports, exposes[prog])
			}
			if v := c.Labels["org.opencontainers.image.version"]; v != "test" {
				t.Errorf("label org.opencontainers.image.version %q, want the build's VERSION test", v)
			}
			if !slices.Equal(c.Healthcheck.Test, []string{"CMD", binaryIn, "healthcheck"}) {
				t.Errorf("healthcheck %q, want the program's own", c.Healthcheck.Test)
			}

			// The image's file system holds the binary the build stage made, stamped.
			ctr := buildah(t, "from", "--pull=never", tag)
			mnt := buildah(t, "mount", ctr)
			defer buildah(t, "umount", ctr)
			inImage, err := os.ReadFile(filepath.Join(mnt, binaryIn))
			if err != nil {
				t.Fatal(err)
			}
			built, err := os.ReadFile(filepath.Join(ctxDir, path.Base(binaryIn)))
			if err != nil {
				t.Fatal(err)
			}
			if sha256.Sum256(inImage) != sha256.Sum256(built) {
				t.Fatalf("%s in the image is not the binary the build stage made", binaryIn)
			}
			out, err := exec.Command(filepath.Join(mnt, binaryIn), "version").CombinedOutput()
			if err != nil || !strings.Contains(string(out), "test") {
				t.Errorf("%s version: %q, %v; want the stamped version test", binaryIn, out, err)
			}
		})
	}
}
