package web

// The strings of words.go: parties and duties, as every page names them.
func init() {
	register(map[string]string{
		"both parties":                       "both parties",
		"us":                                 "us",
		"%s owed by %s":                      "%s owed by %s",
		"acknowledgement of receipt":         "acknowledgement of receipt",
		"substantive answer":                 "substantive answer",
		"approval of the minutes":            "approval of the minutes",
		"an action item":                     "an action item",
		"re-confirmation of the declaration": "re-confirmation of the declaration",
		"the legal assistance request or an extension, before the preserved data expire": "the legal assistance request or an extension, before the preserved data expire",
		"the meeting": "the meeting",
	})
}
