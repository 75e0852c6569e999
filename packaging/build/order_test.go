package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/prestaged/prestaged/internal/testutil"
)

// TestSuccessiveCommitsOrder makes a repository, describes it the way the
// Makefile does after each step (untagged commits, a dirty tree, a tag,
// commits after the tag) and checks that dpkg and rpm both see every build
// newer than the one before, so `apt upgrade`, yum and Puppet's
// `ensure => latest` take it.
func TestSuccessiveCommitsOrder(t *testing.T) {
	testutil.Need(t, "git")
	dpkg := testutil.Need(t, "dpkg")
	rpm := testutil.Need(t, "rpm")
	repo := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", repo}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org", "GIT_CONFIG_GLOBAL=/dev/null")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	commit := func(content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(repo, "f"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		git("add", "f")
		git("commit", "-q", "-m", content)
	}
	versionNow := func() string {
		t.Helper()
		commits, err := strconv.Atoi(git("rev-list", "--count", "HEAD"))
		if err != nil {
			t.Fatal(err)
		}
		v, err := packageVersion(git("describe", "--tags", "--always", "--dirty"), commits)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	git("init", "-q")
	var builds []string
	for _, step := range []func(){
		func() { commit("one") },
		func() { commit("two") },
		func() { os.WriteFile(filepath.Join(repo, "f"), []byte("edited"), 0o644) },
		func() { commit("three") },
		func() { git("tag", "v0.1.0-rc1") },
		func() { commit("four") },
		func() { git("tag", "v0.1.0") },
		func() { commit("five") },
		func() { commit("six") },
	} {
		step()
		builds = append(builds, versionNow())
	}
	t.Logf("successive builds: %s", strings.Join(builds, " < "))
	for i := 1; i < len(builds); i++ {
		lo, hi := builds[i-1], builds[i]
		if lo == hi {
			t.Errorf("two successive builds share version %s", lo)
			continue
		}
		if err := exec.Command(dpkg, "--compare-versions", lo, "lt", hi).Run(); err != nil {
			t.Errorf("dpkg: %s is not lower than the next build %s", lo, hi)
		}
		if got := rpmVercmp(t, rpm, lo, hi); got != "-1" {
			t.Errorf("rpm.vercmp(%s, %s) = %s, want -1", lo, hi, got)
		}
	}
}

// TestPackageVersionOrderRPM is TestPackageVersionOrder under rpm's
// comparison, the one yum and dnf use.
func TestPackageVersionOrderRPM(t *testing.T) {
	rpm := testutil.Need(t, "rpm")
	order := []string{"abc1234", "abc1234-dirty", "v1.2.3-rc1", "v1.2.3-rc1-4-gabc1234", "v1.2.3", "v1.2.3-4-gabc1234", "v1.2.3-4-gabc1234-dirty", "v1.2.4"}
	for i := 1; i < len(order); i++ {
		lo, _ := packageVersion(order[i-1], 57)
		hi, _ := packageVersion(order[i], 57)
		if got := rpmVercmp(t, rpm, lo, hi); got != "-1" {
			t.Errorf("rpm.vercmp(%s, %s) = %s (from %s, %s), want -1", lo, hi, got, order[i-1], order[i])
		}
	}
}

// rpmVercmp is rpm's own version comparison, through its Lua interpreter
// (rpmdev-vercmp is not in Debian's rpm package): -1, 0 or 1.
func rpmVercmp(t *testing.T, rpm, a, b string) string {
	t.Helper()
	out, err := exec.Command(rpm, "--eval", `%{lua: print(rpm.vercmp("`+a+`", "`+b+`"))}`).CombinedOutput()
	if err != nil {
		t.Fatalf("rpm --eval vercmp: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}
