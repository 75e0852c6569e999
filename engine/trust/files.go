package trust

import (
	"fmt"
	"os"
	"time"

	"github.com/google/renameio/v2"
)

// ReadListFile reads an unsigned JSON image list, as an endorser edits it.
func ReadListFile(path string) (*List, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read list: %w", err)
	}
	l, err := ParseList(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (give the unsigned JSON list, not the signed one)", path, err)
	}
	return l, nil
}

// WriteListFile writes l as indented JSON, atomically.
func WriteListFile(path string, l *List) error {
	b, err := l.MarshalIndent()
	if err != nil {
		return err
	}
	if err := renameio.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write list: %w", err)
	}
	return nil
}

// SignFile signs the list at path with the certificate and key in PEM
// files, valid for valid from now: it updates the list's dates in place
// and returns the S/MIME message.
func SignFile(path, certPath, keyPath string, valid time.Duration, now time.Time) (*List, []byte, error) {
	l, err := ReadListFile(path)
	if err != nil {
		return nil, nil, err
	}
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, nil, fmt.Errorf("list sign: %w", err)
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, nil, fmt.Errorf("list sign: %w", err)
	}
	cert, key, err := LoadSigner(certPEM, keyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("list sign: %w", err)
	}
	signed, err := Sign(l, cert, key, valid, now)
	if err != nil {
		return nil, nil, err
	}
	return l, signed, WriteListFile(path, l)
}

// Accepted reports whether no check failed (skipped ones aside).
func (r *Report) Accepted() bool {
	for _, ch := range r.Checks {
		if !ch.OK && !ch.Skipped {
			return false
		}
	}
	return true
}
