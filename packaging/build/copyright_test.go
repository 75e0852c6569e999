package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCopyrightCoversEveryModule generates the copyright file from the
// modules really compiled into prestaged: it fails when one of them (a
// new dependency, or the replaced third_party/anacrolix-torrent) has no
// licence file, or one identify() does not know.
func TestCopyrightCoversEveryModule(t *testing.T) {
	mods, err := compiledModules(context.Background(), "../..")
	if err != nil {
		t.Fatal(err)
	}
	lics, err := readLicences(mods)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := writeCopyright(&out, lics, debianTexts); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	replaced := false
	for _, m := range mods {
		if m.Path == mainModule {
			continue
		}
		if !strings.Contains(text, "\nFiles: "+m.Path+"/*\n") {
			t.Errorf("copyright has no paragraph for %s", m.Path)
		}
		if m.Replace != "" {
			replaced = true
		}
	}
	if !replaced {
		t.Error("no replaced module found: third_party/anacrolix-torrent should be one")
	}
	for _, want := range []string{"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n",
		"\nFiles: *\nCopyright: the prestaged authors\nLicense: Apache-2.0\n", "\nLicense: Apache-2.0\n On Debian systems, the full text of the Apache License 2.0 is in /usr/share/common-licenses/Apache-2.0.\n",
		"Built from ./third_party/anacrolix-torrent"} {
		if !strings.Contains(text, want) {
			t.Errorf("copyright lacks %q", want)
		}
	}
}

func TestCopyrightMissingLicence(t *testing.T) {
	bare, licensed := t.TempDir(), t.TempDir()
	mit := "Copyright (c) 2020 Someone\n\nPermission is hereby granted, free of charge, to any person"
	if err := os.WriteFile(filepath.Join(licensed, "LICENSE.txt"), []byte(mit), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := readLicences([]module{{Path: "example.org/ok", Dir: licensed}, {Path: "example.org/bare", Version: "v1.0.0", Dir: bare}})
	if err == nil || !strings.Contains(err.Error(), "example.org/bare v1.0.0: no LICENSE") || strings.Contains(err.Error(), "example.org/ok") {
		t.Errorf("readLicences error = %v, want only example.org/bare named", err)
	}
	lics, err := readLicences([]module{{Path: "example.org/ok", Dir: licensed}})
	if err != nil || lics[0].spdx != "MIT" || lics[0].copyright[0] != "Copyright (c) 2020 Someone" {
		t.Errorf("readLicences = %+v, %v", lics, err)
	}
}

func TestIdentify(t *testing.T) {
	for text, want := range map[string]string{
		"Redistribution and use in source and binary forms ... Neither the name of Google": "BSD-3-Clause",
		"Redistribution and use in source and binary forms, with or without":               "BSD-2-Clause",
		"Mozilla Public License Version 2.0":                                               "MPL-2.0",
		"Permission to use, copy, modify, and/or distribute this software for any":         "ISC",
		"a licence nobody wrote": "",
	} {
		if got := identify(text); got != want {
			t.Errorf("identify(%q) = %q, want %q", text, got, want)
		}
	}
}

func TestWithoutApacheText(t *testing.T) {
	text := "MIT part\n\n    Apache License\n  Version 2.0, January 2004\nTERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION\n1. ...\nEND OF TERMS AND CONDITIONS\n\nAPPENDIX: How to apply the Apache License to your work.\n...limitations under the License.\n\nBSD part"
	want := "MIT part\n\n[The Apache License 2.0: see the License: Apache-2.0 paragraph.]\n\nBSD part"
	if got := withoutApacheText(text); got != want {
		t.Errorf("withoutApacheText =\n%s\nwant\n%s", got, want)
	}
	if got := withoutApacheText("MIT only"); got != "MIT only" {
		t.Errorf("withoutApacheText changed a text without Apache terms: %q", got)
	}
}
