// Bolt piece completion is not available, and neither is sqlite.
//go:build noboltdb || wasm
// +build noboltdb wasm

package storage

import (
	"errors"
)

func NewDefaultPieceCompletionForDir(dir string) (PieceCompletion, error) {
	return nil, errors.New("y ur OS no have features")
}
