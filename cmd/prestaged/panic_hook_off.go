//go:build !prestaged_panictest

package main

import "github.com/prestaged/prestaged/engine"

// testSources is the identity, except in a build with -tags
// prestaged_panictest (panic_hook.go).
func testSources(s engine.Sources) engine.Sources { return s }
