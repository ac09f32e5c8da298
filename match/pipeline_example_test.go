package match_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/entente/entente/match"
	"github.com/entente/entente/stix"
)

// A pipeline matches logs against indicators and hands the sightings to a
// sink, here one that prints them.
func ExamplePipeline() {
	ix, errs := match.Compile([]match.Indicator{
		{ID: "indicator--00000000-0000-4000-8000-000000000001", Pattern: "[domain-name:value = 'c2.evil.example']"},
	})
	if len(errs) > 0 {
		panic(errs[0])
	}
	p := match.NewPipeline(match.PipelineConfig{
		Format:  match.EVE{},
		Matcher: match.NewMatcher(ix),
		Sink: func(_ context.Context, objs []*stix.Object) error {
			for _, o := range objs {
				if o.Type == "sighting" {
					fmt.Println("sighting of", o.Props["sighting_of_ref"], "seen", o.Props["count"], "times from", o.Props["first_seen"])
				}
			}
			return nil
		},
	})
	log := `{"timestamp":"2026-11-26T08:30:02.500000+0000","event_type":"dns","dns":{"rrname":"c2.evil.example"}}
{"timestamp":"2026-11-26T08:31:00.000000+0000","event_type":"alert","dns":{"query":[{"rrname":"c2.evil.example","rrtype":"A"}]}}
`
	if _, err := p.Run(context.Background(), "eve.json", strings.NewReader(log)); err != nil {
		panic(err)
	}
	if _, err := p.Finish(context.Background()); err != nil {
		panic(err)
	}
	// Output:
	// sighting of indicator--00000000-0000-4000-8000-000000000001 seen 2 times from 2026-11-26T08:30:02.500Z
}
