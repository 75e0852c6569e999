package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// opener is a process that holds a file open.
type opener struct {
	PID  int
	Name string // /proc/PID/comm
}

func (o opener) String() string { return fmt.Sprintf("PID %d (%s)", o.PID, o.Name) }

// openers finds, in one walk of /proc, the processes holding each of paths
// open (a VM's disk, a converter reading it). Processes this one cannot
// see, or that exit meanwhile, are not reported.
func openers(paths []string) map[string][]opener {
	want := map[string]bool{}
	for _, p := range paths {
		want[p] = true
	}
	found := map[string][]opener{}
	if len(want) == 0 {
		return found
	}
	procs, _ := os.ReadDir("/proc")
	self := os.Getpid()
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid == self {
			continue
		}
		fds, _ := os.ReadDir(filepath.Join("/proc", p.Name(), "fd"))
		seen := map[string]bool{}
		for _, fd := range fds {
			target, err := os.Readlink(filepath.Join("/proc", p.Name(), "fd", fd.Name()))
			if err != nil || !want[target] || seen[target] {
				continue
			}
			seen[target] = true
			comm, _ := os.ReadFile(filepath.Join("/proc", p.Name(), "comm"))
			found[target] = append(found[target], opener{PID: pid, Name: strings.TrimSpace(string(comm))})
		}
	}
	return found
}

// holdInUse marks the items that would replace or remove an install a
// process holds open: they are not converged until it is closed.
func holdInUse(items []Item) {
	var paths []string
	for _, it := range items {
		if touchesInstall(it) {
			paths = append(paths, it.current.Install)
		}
	}
	open := openers(paths)
	for i := range items {
		it := &items[i]
		if !touchesInstall(*it) {
			continue
		}
		if who := open[it.current.Install]; len(who) > 0 {
			it.Code, it.Reason = ReasonInUse, fmt.Sprintf("in use by %s; left until it is closed", who[0])
		}
	}
}

// touchesInstall: the item replaces or removes a file prestaged installed.
func touchesInstall(it Item) bool {
	return (it.Action == ActionReplace || it.Action == ActionRemove) && it.current != nil && fileExists(it.current.Install)
}
