// Bolt piece completion is available, and sqlite is not.
//go:build !noboltdb && !wasm
// +build !noboltdb,!wasm

package storage

func NewDefaultPieceCompletionForDir(dir string) (PieceCompletion, error) {
	return NewBoltPieceCompletion(dir)
}
