package pattern_test

import (
	"fmt"

	"github.com/entente/entente/stix/pattern"
)

func ExampleParse() {
	p, err := pattern.Parse("[file:hashes.MD5 == '79054025255fb1a26e4bc422aef54eb4'   ]REPEATS 2 TIMES")
	if err != nil {
		panic(err)
	}
	fmt.Println(p)

	_, err = pattern.Parse("[file:size = ]")
	fmt.Println(err)
	// Output:
	// [file:hashes.MD5 = '79054025255fb1a26e4bc422aef54eb4'] REPEATS 2 TIMES
	// position 13: expected a constant (string, number, true/false, b'…', h'…' or t'…'), found "]"
}

func ExamplePattern_Match() {
	bundle := []byte(`{"type": "bundle", "id": "bundle--9d2e1c3a-4b5f-4e6a-8b7c-0d1e2f3a4b5c", "objects": [
	  {"type": "observed-data", "id": "observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf",
	   "first_observed": "2016-06-01T10:00:00Z", "last_observed": "2016-06-01T10:00:00Z",
	   "number_observed": 2, "object_refs": ["network-traffic--630d7bb1-0bbc-53a6-a6d4-f3c2d35c2734",
	     "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd"]},
	  {"type": "network-traffic", "id": "network-traffic--630d7bb1-0bbc-53a6-a6d4-f3c2d35c2734",
	   "dst_ref": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", "protocols": ["tcp"]},
	  {"type": "ipv4-addr", "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", "value": "198.51.100.7"}]}`)
	obs, err := pattern.ObservationsFromBundle(bundle)
	if err != nil {
		panic(err)
	}
	p, err := pattern.Parse("[network-traffic:dst_ref.value ISSUBSET '198.51.100.0/24'] REPEATS 2 TIMES")
	if err != nil {
		panic(err)
	}
	res, ok := p.Match(obs)
	fmt.Println(ok)
	for _, b := range res.Bindings {
		fmt.Println(obs[b.Observation].ID, b.Root)
	}
	// Output:
	// true
	// observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf network-traffic--630d7bb1-0bbc-53a6-a6d4-f3c2d35c2734
	// observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf network-traffic--630d7bb1-0bbc-53a6-a6d4-f3c2d35c2734
}
