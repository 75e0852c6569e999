package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// maxDepth bounds the walk over nested verbs (`prestaged list sign`).
const maxDepth = 3

// helpReference runs the binary's --help for the root command and, walking
// cobra's "Available Commands:" sections, for every verb, and returns one
// text with a heading per command.
func helpReference(ctx context.Context, binary string) ([]byte, error) {
	var out bytes.Buffer
	fmt.Fprintf(&out, "prestaged command reference\n\nGenerated from `prestaged --help` when the package was built.\n")
	if err := walkHelp(ctx, binary, nil, &out); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func walkHelp(ctx context.Context, binary string, path []string, out *bytes.Buffer) error {
	text, err := runHelp(ctx, binary, path)
	if err != nil {
		return err
	}
	title := strings.Join(append([]string{"prestaged"}, path...), " ")
	fmt.Fprintf(out, "\n%s\n%s\n\n%s", title, strings.Repeat("=", len(title)), text)
	if len(path) >= maxDepth {
		return nil
	}
	for _, verb := range subcommands(text) {
		if err := walkHelp(ctx, binary, append(path[:len(path):len(path)], verb), out); err != nil {
			return err
		}
	}
	return nil
}

func runHelp(ctx context.Context, binary string, path []string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	args := append(append([]string{}, path...), "--help")
	cmd := exec.CommandContext(ctx, binary, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	text, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("help text: %s %s: %w: %s", binary, strings.Join(args, " "), err, stderr.String())
	}
	return string(text), nil
}

// subcommands lists the verbs of a cobra help text, without cobra's own
// `help` and `completion`.
func subcommands(help string) []string {
	var verbs []string
	in := false
	sc := bufio.NewScanner(strings.NewReader(help))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasSuffix(line, "Commands:"):
			in = true
		case in && strings.HasPrefix(line, "  "):
			verb := strings.Fields(line)[0]
			if verb != "help" && verb != "completion" {
				verbs = append(verbs, verb)
			}
		default:
			in = false
		}
	}
	return verbs
}
