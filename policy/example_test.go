package policy_test

import (
	"fmt"
	"os"

	"github.com/entente/entente/agreement"
	"github.com/entente/entente/policy"
	"github.com/entente/entente/stix"
)

func Example() {
	doc, err := os.ReadFile("../examples/arcadia-borealis.yaml")
	if err != nil {
		panic(err)
	}
	a, err := agreement.Parse(doc)
	if err != nil {
		panic(err)
	}
	// A node verifies the agreement (a.Verify) before it compiles it.
	p, err := policy.Compile(a, "arcadia")
	if err != nil {
		panic(err)
	}
	o, err := stix.Parse([]byte(`{"type":"indicator","spec_version":"2.1",
		"id":"indicator--6a2e5bb4-0a4e-4d6f-9d68-5b2f0c6b1a01",
		"created":"2026-03-01T00:00:00.000Z","modified":"2026-03-01T00:00:00.000Z",
		"pattern":"[ipv4-addr:value = '203.0.113.66']","pattern_type":"stix","valid_from":"2026-03-01T00:00:00Z",
		"object_marking_refs":["` + stix.TLP2Amber + `"]}`))
	if err != nil {
		panic(err)
	}
	for _, to := range []policy.Recipient{
		{Party: "borealis", Organization: "borealis-cert"},
		{Party: "borealis", Organization: "borealis-prosecutor"},
	} {
		d, err := policy.Decide(p, to, o, policy.Context{})
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s: %s: %s\n", to.Organization, d.Verdict, d.Reason())
	}
	// Output:
	// borealis-cert: allow: the rule allows it (rule arcadia-to-borealis)
	// borealis-prosecutor: deny: TLP:AMBER goes only to the organisations the rule names, and "borealis-prosecutor" is not one (rule arcadia-to-borealis)
}
