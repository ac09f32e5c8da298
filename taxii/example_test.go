package taxii_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http/httptest"

	"github.com/entente/entente/taxii"
	"github.com/entente/entente/taxii/taxiitest"
)

// A Server over a Backend (here the in-memory Fake), and a Client that
// adds objects and reads them back page by page.
func Example() {
	backend := taxiitest.New()
	backend.AddAccount("ana", "analyst", "s3cret")
	backend.AddAPIRoot("api1", taxii.APIRoot{Title: "Example", Versions: []string{taxii.MediaType}, MaxContentLength: 1 << 20})
	const coll = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
	if err := backend.AddCollection("api1", taxii.Collection{ID: coll, Title: "Indicators"},
		map[string]taxiitest.Perm{"analyst": {Read: true, Write: true}}); err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(taxii.NewServer(backend, taxii.Config{Title: "Example node"}))
	defer srv.Close()

	ctx := context.Background()
	c, err := taxii.NewClient(srv.URL, taxii.ClientOptions{User: "ana", Token: "s3cret"})
	if err != nil {
		log.Fatal(err)
	}
	var objects []json.RawMessage
	for i := range 3 {
		objects = append(objects, json.RawMessage(fmt.Sprintf(
			`{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-00000000000%d",`+
				`"created":"2025-01-01T00:00:00.000Z","modified":"2025-01-01T00:00:00.000Z",`+
				`"pattern":"[ipv4-addr:value = '198.51.100.%d']","pattern_type":"stix","valid_from":"2025-01-01T00:00:00Z"}`, i, i)))
	}
	st, err := c.AddObjects(ctx, "api1", coll, objects)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.Status, st.SuccessCount, "of", st.TotalCount)

	// Two objects a page: the iterator follows next.
	for o, err := range c.AllObjects(ctx, "api1", coll, taxii.Query{Limit: 2, Types: []string{"indicator"}}) {
		if err != nil {
			log.Fatal(err)
		}
		var ind struct{ Pattern string }
		json.Unmarshal(o, &ind)
		fmt.Println(ind.Pattern)
	}
	// Output:
	// complete 3 of 3
	// [ipv4-addr:value = '198.51.100.0']
	// [ipv4-addr:value = '198.51.100.1']
	// [ipv4-addr:value = '198.51.100.2']
}
