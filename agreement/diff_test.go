package agreement

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestDiffExampleAmendment reads the example amendment as the changes it
// makes, and only those.
func TestDiffExampleAmendment(t *testing.T) {
	v1 := mustParse(t, readFile(t, "../examples/arcadia-borealis.yaml"))
	v2 := mustParse(t, readFile(t, "../examples/arcadia-borealis-v2.yaml"))
	cs, err := Diff(v1, v2)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]string, len(cs))
	for i, c := range cs {
		got[i] = c.Section + " | " + c.String()
	}
	want := []string{
		"agreement | version: 1 → 2",
		"agreement | supersedes: added 1",
		"validity | validity.effective: 2026-01-01 → 2027-01-01",
		"nodes | parties[arcadia].nodes[arcadia-node-1].witness_threshold: 1 → 2",
		"nodes | parties[arcadia].nodes[arcadia-node-1].witnesses: added Neutral Witness Foundation",
		"rules | rules[arcadia-to-borealis].conditions.retention_days: 365 → 730",
		"rules | rules[arcadia-to-borealis].types: added course-of-action",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Diff(v1, v2):\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The other way round, every change turns over.
	back, err := Diff(v2, v1)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != len(cs) {
		t.Fatalf("Diff(v2, v1) has %d changes, Diff(v1, v2) %d", len(back), len(cs))
	}
	for i := range cs {
		f, b := cs[i], back[i]
		turned := f.Path == b.Path && f.Old == b.New && f.New == b.Old &&
			(f.Kind == Changed && b.Kind == Changed || f.Kind == Added && b.Kind == Removed || f.Kind == Removed && b.Kind == Added)
		if !turned {
			t.Errorf("change %d: %v one way, %v the other", i, f, b)
		}
	}
}

func TestDiffSameIsEmpty(t *testing.T) {
	v1 := mustParse(t, readFile(t, "../examples/arcadia-borealis.yaml"))
	again := mustParse(t, readFile(t, "../examples/arcadia-borealis.yaml"))
	cs, err := Diff(v1, again)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 0 {
		t.Fatalf("an agreement differs from itself: %v", cs)
	}
}

// TestDiffStructure changes a copy of the example field by field: rules,
// parties, declarations, deadlines, and reordering that changes nothing.
func TestDiffStructure(t *testing.T) {
	base := mustParse(t, readFile(t, "../examples/arcadia-borealis.yaml"))
	for _, tc := range []struct {
		name string
		edit func(a *Agreement)
		want []string // Section | String()
	}{
		{"reordered rules and types", func(a *Agreement) {
			slices.Reverse(a.Rules)
			slices.Reverse(a.Rules[0].Types)
		}, nil},
		{"rule removed", func(a *Agreement) {
			a.Rules = a.Rules[:1]
		}, []string{"rules | rules: removed " + base.Rules[1].ID}},
		{"rule added", func(a *Agreement) {
			r := a.Rules[0]
			r.ID, r.From, r.To = "new-rule", r.To, r.From
			a.Rules = append(a.Rules, r)
		}, []string{"rules | rules: added new-rule"}},
		{"onward transfer and tlp", func(a *Agreement) {
			a.Rules[0].OnwardTransfer = !a.Rules[0].OnwardTransfer
			a.Rules[0].TLP = "clear"
		}, []string{
			"rules | rules[" + base.Rules[0].ID + "].onward_transfer: " + onward(base.Rules[0].OnwardTransfer),
			"rules | rules[" + base.Rules[0].ID + "].tlp: " + base.Rules[0].TLP + " → clear",
		}},
		{"declaration", func(a *Agreement) {
			ci := &a.Parties[0].Declarations.CriticalInfrastructure
			ci.Domains = append(ci.Domains, "grid.example")
			ci.Sectors = ci.Sectors[1:]
		}, []string{
			"declarations | parties[" + base.Parties[0].ID + "].declarations.critical_infrastructure.domains: added grid.example",
			"declarations | parties[" + base.Parties[0].ID + "].declarations.critical_infrastructure.sectors: removed " +
				base.Parties[0].Declarations.CriticalInfrastructure.Sectors[0],
		}},
		{"party renamed and contact", func(a *Agreement) {
			a.Parties[1].Name = "Commonwealth of Borealis"
			a.Parties[1].Authorities[0].Contact.Phone = "+999 555 0199"
		}, []string{
			"parties | parties[" + base.Parties[1].ID + "].authorities[" + base.Parties[1].Authorities[0].ID + "].contact.phone: " +
				base.Parties[1].Authorities[0].Contact.Phone + " → +999 555 0199",
			"parties | parties[" + base.Parties[1].ID + "].name: " + base.Parties[1].Name + " → Commonwealth of Borealis",
		}},
		{"deadline", func(a *Agreement) {
			a.Deadlines[0].AcknowledgeHours++
		}, []string{
			"deadlines | deadlines[" + base.Deadlines[0].Workflow + "].acknowledge_hours: " +
				itoa(base.Deadlines[0].AcknowledgeHours) + " → " + itoa(base.Deadlines[0].AcknowledgeHours+1),
		}},
		{"escalation step removed", func(a *Agreement) {
			a.Escalation = a.Escalation[:len(a.Escalation)-1]
		}, []string{"escalation | escalation: removed " + base.Escalation[len(base.Escalation)-1].Level}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next := mustParse(t, readFile(t, "../examples/arcadia-borealis.yaml"))
			tc.edit(next)
			cs, err := Diff(base, next)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range cs {
				got = append(got, c.Section+" | "+c.String())
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func onward(was bool) string {
	if was {
		return "true → false"
	}
	return "added true" // false is omitted from the content
}

func itoa(i int) string { return strconv.Itoa(i) }
