// Package safe keeps a panic from reading as success: the Go runtime exits 2
// on an unrecovered panic, which Puppet's --detailed-exitcodes takes for
// "changes applied".
package safe

import (
	"fmt"
	"os"
	"runtime/debug"
)

// PanicError is a recovered panic, with the stack where it happened.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v\n%s", e.Value, e.Stack) }

// Recover, deferred, turns a panic of the calling function into an error in
// *err (the first one wins if *err is already set by another panic).
func Recover(err *error) {
	if r := recover(); r != nil {
		*err = &PanicError{Value: r, Stack: debug.Stack()}
	}
}

// Exit is what a goroutine without an error path does with a panic: it
// prints it with its stack and ends the process with exit code 1.
var Exit = func(e *PanicError) {
	fmt.Fprintf(os.Stderr, "prestaged: %v\n", e)
	os.Exit(1)
}

// Go runs f in a new goroutine; a panic in f ends the process through Exit.
func Go(f func()) {
	go func() {
		defer Crash()
		f()
	}()
}

// Crash, deferred, hands a panic of the calling goroutine to Exit.
func Crash() {
	if r := recover(); r != nil {
		Exit(&PanicError{Value: r, Stack: debug.Stack()})
	}
}
