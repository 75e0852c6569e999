package store

import "syscall"

// Allocation is the apparent size of the regular file at path and the
// bytes it takes on disk; zeros when it is not there.
func Allocation(path string) (size, allocated int64) {
	fi, err := LstatRegular(path)
	if err != nil {
		return 0, 0
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		allocated = st.Blocks * 512
	}
	return fi.Size(), allocated
}
