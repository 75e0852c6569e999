package testutil

import (
	"os"
	"strconv"
	"strings"
)

// NginxRequest is one line of the access log.
type NginxRequest struct {
	Method, Path, Range string // Range is "-" when the request had none
	Status              int
	BodyBytes           int64
}

// readNginxLog parses the access log at path, which may not exist yet.
func readNginxLog(path string) ([]NginxRequest, error) {
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	var reqs []NginxRequest
	for line := range strings.Lines(string(b)) {
		f := strings.Split(strings.TrimSuffix(line, "\n"), "\t")
		if !strings.HasSuffix(line, "\n") || len(f) != 5 || f[1] == probePath {
			continue // a line being written, or the start-up probe
		}
		status, _ := strconv.Atoi(f[3])
		bytes, _ := strconv.ParseInt(f[4], 10, 64)
		reqs = append(reqs, NginxRequest{Method: f[0], Path: f[1], Range: f[2], Status: status, BodyBytes: bytes})
	}
	return reqs, nil
}
