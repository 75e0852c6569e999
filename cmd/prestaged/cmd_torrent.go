package main

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/renameio/v2"
	"github.com/spf13/cobra"

	"github.com/prestaged/prestaged/fetchers/torrent"
)

// torrentMakeJSON is the stable --json object of `torrent make`.
type torrentMakeJSON struct {
	Name        string `json:"name"`
	Length      int64  `json:"length"`
	PieceLength int64  `json:"piece_length"`
	Pieces      int    `json:"pieces"`
	InfoHash    string `json:"infohash"` // v1, 40 hex digits
	Output      string `json:"output"`
}

type torrentMakeFlags struct {
	pieceLength, tracker, name, output string
	asJSON                             bool
}

func newTorrentCmd() *cobra.Command {
	return newGroup("torrent", "BitTorrent metainfo for images", newTorrentMakeCmd())
}

func newTorrentMakeCmd() *cobra.Command {
	var f torrentMakeFlags
	c := newVerb("make IMAGEFILE", "Write the deterministic .torrent of an image file", cobra.ExactArgs(1), func(c *cobra.Command, args []string) error {
		return runTorrentMake(c, args[0], f)
	})
	c.Long = `Write the BitTorrent v1 metainfo of IMAGEFILE to standard output (or --output).
It depends only on the file's bytes, its name and the piece length, so every
host, mirror and endorser derives the same info-hash, the one
'mktorrent -l 22 IMAGEFILE' gives with the default 4 MiB pieces. The name is
the file's base name: use the image's file name on the mirror (its 'path'),
or set it with --name.

  prestaged torrent make slc6-batch.img > slc6-batch.torrent`
	c.Flags().StringVar(&f.pieceLength, "piece-length", "4MiB", "piece size: a power of two from 16KiB to 64MiB (bytes, KiB or MiB)")
	c.Flags().StringVar(&f.tracker, "tracker", "", "announce URL written into the .torrent (does not change the info-hash)")
	c.Flags().StringVar(&f.name, "name", "", "name in the info dictionary (default: IMAGEFILE's base name; changes the info-hash)")
	c.Flags().StringVarP(&f.output, "output", "o", "", "write the .torrent to this file, atomically, instead of standard output")
	addJSONFlag(c, &f.asJSON)
	return c
}

func runTorrentMake(c *cobra.Command, file string, f torrentMakeFlags) error {
	if f.asJSON && f.output == "" {
		return errors.New("torrent make: --json prints a summary, so it needs --output for the .torrent")
	}
	pieceLen, err := parsePieceLength(f.pieceLength)
	if err != nil {
		return err
	}
	mi, err := torrent.MakeFile(c.Context(), file, f.name, pieceLen)
	if err != nil {
		return err
	}
	mi.Announce = f.tracker
	var buf bytes.Buffer
	if err := mi.Write(&buf); err != nil {
		return fmt.Errorf("torrent make %s: %w", file, err)
	}
	if f.output == "" {
		_, err := c.OutOrStdout().Write(buf.Bytes())
		return err
	}
	if err := renameio.WriteFile(f.output, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("torrent make %s: %w", file, err)
	}
	info, err := mi.UnmarshalInfo()
	if err != nil {
		return fmt.Errorf("torrent make %s: %w", file, err)
	}
	if !f.asJSON {
		_, err := fmt.Fprintf(c.OutOrStdout(), "%s  %s\n", torrent.InfoHash(mi), f.output)
		return err
	}
	return writeJSON(c.OutOrStdout(), torrentMakeJSON{
		Name: info.Name, Length: info.Length, PieceLength: info.PieceLength,
		Pieces: info.NumPieces(), InfoHash: torrent.InfoHash(mi), Output: f.output,
	})
}

// parsePieceLength reads "4MiB", "256KiB" or a number of bytes. The torrent
// package checks that it is a power of two in range.
func parsePieceLength(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}, {"", 1}}
	for _, u := range units {
		num, ok := strings.CutSuffix(strings.TrimSpace(s), u.suffix)
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
		if err != nil || n <= 0 {
			break
		}
		return n * u.mult, nil
	}
	return 0, fmt.Errorf("torrent make: --piece-length %q: want bytes, KiB or MiB, e.g. 4MiB", s)
}
