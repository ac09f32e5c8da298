package match

import "unsafe"

// unsafeString views b as a string without copying. The caller must not
// keep the string beyond b's lifetime or modify b meanwhile; it is used
// only for lookups that do not retain their argument.
func unsafeString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
