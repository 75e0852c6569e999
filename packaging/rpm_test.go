package packaging

import (
	"slices"
	"strings"
	"testing"

	"github.com/prestaged/prestaged/internal/testutil"
)

// packaged is every path both packages own, besides the directories.
var packaged = []string{
	"/etc/prestaged/spec.hcl",
	"/usr/bin/prestaged",
	"/usr/lib/systemd/system/prestaged-apply.service",
	"/usr/lib/systemd/system/prestaged-apply.timer",
	"/usr/lib/systemd/system/prestaged.service",
	"/usr/lib/systemd/system/prestaged.socket",
	"/usr/lib/tmpfiles.d/prestaged.conf",
	"/usr/share/doc/prestaged/README.md",
	"/usr/share/doc/prestaged/prestaged-help.txt",
}

func TestRPM(t *testing.T) {
	testutil.Need(t, "rpm")
	rpm := artifacts.Get(t).rpm
	tests := []struct {
		name string
		args []string
		want []string // lines of the output, in order
	}{
		{"header", []string{"-qp", "--queryformat", "%{NAME}\n%{VERSION}\n%{RELEASE}\n%{ARCH}\n"},
			[]string{"prestaged", version, "1", "x86_64"}},
		{"config files", []string{"-qlp", "--configfiles"}, []string{"/etc/prestaged/spec.hcl"}},
		// c: %config, n: noreplace — an upgrade keeps the admin's spec.
		{"config flags", []string{"-qp", "--queryformat", "[%{FILEFLAGS:fflags} %{FILENAMES}\n]"},
			[]string{"cn /etc/prestaged/spec.hcl"}},
		{"directories", []string{"-qp", "--queryformat", "[%{FILEMODES:perms} %{FILENAMES}\n]"},
			[]string{"drwxr-xr-x /etc/prestaged", "drwxr-xr-x /usr/share/doc/prestaged", "drwxr-xr-x /var/lib/prestaged"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Split(strings.TrimSpace(run(t, "rpm", append(tt.args, rpm)...)), "\n")
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("rpm %s: no line %q in\n%s", strings.Join(tt.args, " "), w, strings.Join(got, "\n"))
				}
			}
		})
	}
	t.Run("files", func(t *testing.T) {
		got := strings.Fields(run(t, "rpm", "-qlp", rpm))
		for _, p := range packaged {
			if !slices.Contains(got, p) {
				t.Errorf("rpm -qlp: %s missing from %q", p, got)
			}
		}
	})
	t.Run("info", func(t *testing.T) {
		info := run(t, "rpm", "-qip", rpm)
		if !strings.Contains(info, "Summary     : Pre-stage large VM images") {
			t.Errorf("rpm -qip:\n%s", info)
		}
	})
	t.Run("scripts", func(t *testing.T) {
		s := run(t, "rpm", "-qp", "--scripts", rpm)
		for _, w := range []string{"postinstall scriptlet", "preuninstall scriptlet", "postuninstall scriptlet", "[ -d /run/systemd/system ]"} {
			if !strings.Contains(s, w) {
				t.Errorf("rpm --scripts lacks %q:\n%s", w, s)
			}
		}
		if strings.Contains(s, "enable --now") || strings.Contains(s, "systemctl start") {
			t.Errorf("maintainer scripts must not enable or start units:\n%s", s)
		}
	})
}
