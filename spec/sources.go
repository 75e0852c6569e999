package spec

import (
	"slices"
	"strings"
)

// Names of sources in an image's `sources` list.
const (
	sourceParents  = "parents"
	sourceTorrent  = "torrent"
	sourceEndorsed = "endorsed"
	mirrorPrefix   = "mirror."
)

// sources resolves an image's sources: the written list, or the default
// (parents when this host has any, torrent when configured, every mirror in
// order, and for an endorsed image the URL its list gives, last).
func (v *validator) sources(raw *rawImage, s *Spec) []Source {
	endorsed := present(at(raw.Body, "trust"))
	if !present(at(raw.Body, "sources")) {
		out := defaultSources(s, endorsed)
		if len(out) == 0 {
			v.errorf(raw.DefRange, "No source for image", "Image %q has nowhere to come from: add a mirror block, a peer block with parents, or a torrent block.", raw.Name)
		}
		return out
	}
	var out []Source
	errs := v.errors()
	for _, it := range v.stringList(raw.Sources, at(raw.Body, "sources"), "sources") {
		src, ok := v.source(it, s, endorsed)
		switch {
		case !ok:
		case slices.Contains(out, src):
			v.errorf(it.at, "Duplicate source", "%q is listed twice in the sources of image %q.", it.value, raw.Name)
		default:
			out = append(out, src)
		}
	}
	// When entries were reported, saying that none is left adds nothing.
	if len(out) == 0 && v.errors() == errs {
		v.errorf(at(raw.Body, "sources"), "No source for image", "Image %q has no usable source in its sources list.", raw.Name)
	}
	return out
}

func defaultSources(s *Spec, endorsed bool) []Source {
	var out []Source
	if s.Peer != nil && len(s.Peer.Parents) > 0 {
		out = append(out, Source{Kind: SourceParents})
	}
	if s.Torrent != nil {
		out = append(out, Source{Kind: SourceTorrent})
	}
	for _, m := range s.Mirrors {
		out = append(out, Source{Kind: SourceMirror, Name: m.Name})
	}
	if endorsed {
		out = append(out, Source{Kind: SourceEndorsed})
	}
	return out
}

// source checks one entry of a sources list; ok is false when it was
// reported or, for the root of a computed tree, dropped.
func (v *validator) source(it item, s *Spec, endorsed bool) (Source, bool) {
	switch it.value {
	case sourceParents:
		return v.parentsSource(it, s.Peer)
	case sourceTorrent:
		if s.Torrent == nil {
			v.errorf(it.at, "No torrent block", "The torrent source needs a torrent block.")
			return Source{}, false
		}
		return Source{Kind: SourceTorrent}, true
	case sourceEndorsed:
		if !endorsed {
			v.errorf(it.at, "Not an endorsed image", "The endorsed source is the URL a trust list gives; it needs trust and id on the image.")
			return Source{}, false
		}
		return Source{Kind: SourceEndorsed}, true
	}
	names := validSources(s, endorsed)
	if name, ok := strings.CutPrefix(it.value, mirrorPrefix); ok {
		if slices.ContainsFunc(s.Mirrors, func(m *Mirror) bool { return m.Name == name }) {
			return Source{Kind: SourceMirror, Name: name}, true
		}
		v.errorf(it.at, "Unknown mirror", "There is no mirror block named %q.%s", name, suggest(it.value, names))
		return Source{}, false
	}
	v.errorf(it.at, "Unknown source", "%q is not a source; this spec offers %s.%s", it.value, quoted(names), suggest(it.value, names))
	return Source{}, false
}

// parentsSource accepts "parents" only on a host that has parents. The root
// of a computed tree is the exception: every host of a farm is usually given
// the same image blocks, so there it only warns and drops the entry.
func (v *validator) parentsSource(it item, p *Peer) (Source, bool) {
	switch {
	case p != nil && len(p.Parents) > 0:
		return Source{Kind: SourceParents}, true
	case p != nil && len(p.Hosts) > 0 && p.Self == p.Hosts[0]:
		v.warnf(it.at, "Root of the tree has no parents", "This host, %s, is the root of the computed tree; it skips the parents source and fetches from the next one.", p.Self)
	case p != nil && len(p.Hosts) > 0:
		// self was reported already; do not add a second problem.
	default:
		v.errorf(it.at, "No parents", "This host has no parents to fetch from: add parents (or hosts and self) to the peer block, or remove %q from sources.", sourceParents)
	}
	return Source{}, false
}

// validSources lists what a sources entry may say in this spec, for hints.
func validSources(s *Spec, endorsed bool) []string {
	var names []string
	for _, src := range defaultSources(s, endorsed) {
		names = append(names, src.String())
	}
	return names
}
