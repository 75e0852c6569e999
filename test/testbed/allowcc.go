package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
)

// Linux lets a namespace other than the initial one choose as its default
// only a congestion control named in the initial namespace's allowed list;
// a machine may allow only "reno bbr" while cubic is available.
const (
	allowedCCFile = "/proc/sys/net/ipv4/tcp_allowed_congestion_control"
	// savedCCFile holds the allowed list as it was before a run widened it,
	// so that the next run undoes what a killed one left.
	savedCCFile = "/run/lock/" + prefix + "testbed.allowed-cc"
)

// allowCongestionControl adds cc to the initial namespace's allowed list
// when it is missing, and returns the function that puts the exact earlier
// list back. SIGINT and SIGTERM restore it too, then take their usual course
// (or the one a NotifyContext of the caller gives them). Call it holding the
// testbed lock, after repairAllowedCC.
func allowCongestionControl(cc string) (restore func(), err error) {
	if cc == "" {
		return func() {}, nil
	}
	prev, err := readSysctlFile(allowedCCFile)
	if err != nil {
		return nil, fmt.Errorf("allowed congestion controls: %w", err)
	}
	if slices.Contains(strings.Fields(prev), cc) {
		return func() {}, nil
	}
	if err := writeSynced(savedCCFile, prev+"\n"); err != nil {
		return nil, fmt.Errorf("saving the allowed congestion controls: %w", err)
	}
	if err := os.WriteFile(allowedCCFile, []byte(prev+" "+cc), 0o644); err != nil {
		_ = os.Remove(savedCCFile)
		return nil, fmt.Errorf("allowing congestion control %s in namespaces (%s): %w", cc, allowedCCFile, err)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	var once sync.Once
	done := make(chan struct{})
	restore = func() {
		once.Do(func() {
			signal.Stop(sigs)
			close(done)
			_ = os.WriteFile(allowedCCFile, []byte(prev), 0o644)
			_ = os.Remove(savedCCFile)
		})
	}
	go func() {
		select {
		case sig := <-sigs:
			restore()
			// With no other handler left, the signal now ends the process.
			_ = syscall.Kill(os.Getpid(), sig.(syscall.Signal))
		case <-done:
		}
	}()
	return restore, nil
}

// repairAllowedCC puts back the allowed list that a killed run widened.
func repairAllowedCC() error {
	saved, err := os.ReadFile(savedCCFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := os.WriteFile(allowedCCFile, []byte(strings.TrimSpace(string(saved))), 0o644); err != nil {
		return fmt.Errorf("restoring %s from %s: %w", allowedCCFile, savedCCFile, err)
	}
	return os.Remove(savedCCFile)
}

func readSysctlFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	return strings.Join(strings.Fields(string(b)), " "), err
}

func writeSynced(path, content string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
