package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
)

// profileEnv names a directory where every prestaged process writes a CPU
// profile of its whole run, <verb>-<pid>.pprof, for `go tool pprof`. It is a
// debugging aid for a farm's hosts (and the testbed), not a setting: a spec
// or unit file never needs it.
const profileEnv = "PRESTAGED_CPUPROFILE"

// startProfile starts the CPU profile profileEnv asks for, if any, and
// returns what stops it. A profile that cannot start is reported and the
// run goes on.
func startProfile(verb string) (stop func()) {
	dir := os.Getenv(profileEnv)
	if dir == "" {
		return func() {}
	}
	path := filepath.Join(dir, fmt.Sprintf("%s-%d.pprof", verb, os.Getpid()))
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "prestaged: %s: %v\n", profileEnv, err)
		if f != nil {
			f.Close()
		}
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
