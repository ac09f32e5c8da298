package signature

// The test tables, for the tests of package signature_test, which compare
// the validators with the languages' own tools.
var ValidForTest = valid

type InvalidCase struct{ Lang, Src string }

var InvalidForTest = func() []InvalidCase {
	var out []InvalidCase
	for _, tt := range invalid {
		out = append(out, InvalidCase{tt.lang, tt.src})
	}
	return out
}()
