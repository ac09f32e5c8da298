package node

import (
	"testing"

	"github.com/entente/entente/ledgerhttp"
	"github.com/entente/entente/store"
)

// TestMayOpen checks who gets the opening of an entry: an admin of the
// node every one, a partner those that concern its party, other accounts
// none.
func TestMayOpen(t *testing.T) {
	for _, tc := range []struct {
		caller   *ledgerhttp.Caller
		concerns []string
		want     bool
	}{
		{&ledgerhttp.Caller{Role: string(store.RoleAdmin)}, nil, true},
		{&ledgerhttp.Caller{Role: string(store.RoleAdmin)}, []string{"borealis"}, true},
		{&ledgerhttp.Caller{Role: string(store.RoleAnalyst)}, []string{"borealis"}, false},
		{&ledgerhttp.Caller{Role: string(store.RoleReader)}, nil, false},
		{&ledgerhttp.Caller{Role: string(store.RoleReader), Party: "borealis"}, []string{"borealis"}, true},
		{&ledgerhttp.Caller{Role: string(store.RoleAdmin), Party: "borealis"}, []string{"arcadia"}, false},
		{&ledgerhttp.Caller{Party: "borealis"}, nil, false},
		{nil, []string{"borealis"}, false},
	} {
		if got := MayOpen(tc.caller, tc.concerns); got != tc.want {
			t.Errorf("MayOpen(%+v, %v) = %v, want %v", tc.caller, tc.concerns, got, tc.want)
		}
	}
	for _, r := range []store.Role{store.RoleAdmin, store.RoleAnalyst, store.RoleReader} {
		if !MayReadLedger(r) {
			t.Errorf("MayReadLedger(%s) = false", r)
		}
	}
	if MayReadLedger("guest") {
		t.Error("MayReadLedger of an unknown role")
	}
}
