package stix_test

import (
	"errors"
	"fmt"

	"github.com/entente/entente/stix"
)

func ExampleValidate() {
	o, err := stix.Parse([]byte(`{
		"type": "indicator",
		"spec_version": "2.1",
		"id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
		"created": "2016-04-06T20:03:48Z",
		"modified": "2016-04-06T20:03:48.000Z",
		"confidence": 120,
		"pattern": "[ipv4-addr:value = '198.51.100.1']",
		"pattern_type": "stix",
		"valid_from": "2016-01-01T00:00:00Z"
	}`))
	if err != nil {
		panic(err)
	}
	var violations stix.Errors
	if errors.As(stix.Validate(o), &violations) {
		for _, v := range violations {
			fmt.Printf("%s: %s\n", v.Path, v.Rule)
		}
	}
	// Output:
	// confidence: range
	// created: timestamp-precision
}

func ExampleSCOID() {
	id, err := stix.SCOID(map[string]any{"type": "ipv4-addr", "value": "198.51.100.3"})
	if err != nil {
		panic(err)
	}
	fmt.Println(id)
	// Output: ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4
}

func ExampleObject_TLP() {
	o, err := stix.Parse([]byte(`{"type": "report", "id": "report--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3",
		"object_marking_refs": ["` + stix.TLP2Green + `", "` + stix.TLP1Amber + `"]}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(o.TLP())
	// Output: TLP:AMBER
}
