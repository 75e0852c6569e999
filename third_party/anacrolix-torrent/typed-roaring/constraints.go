package typedRoaring

type BitConstraint interface {
	~int | ~uint32
}
