package web

import (
	"fmt"
	"sync"

	"golang.org/x/text/language"
	"golang.org/x/text/message/catalog"
)

// messages holds the console's strings. Keys are the English strings;
// each page registers its own in messages_<page>.go, and
// TestCatalogComplete checks that every key a template or handler uses
// is registered in English. A party translating the console adds a file
// registering the same keys for its language (registerLang).
var messages = catalog.NewBuilder(catalog.Fallback(language.English))

var (
	registeredMu sync.Mutex
	registered   = map[language.Tag]map[string]string{}
)

// register adds English strings to the catalog.
func register(m map[string]string) { registerLang(language.English, m) }

// registerLang adds strings of one language to the catalog.
func registerLang(tag language.Tag, m map[string]string) {
	registeredMu.Lock()
	defer registeredMu.Unlock()
	if registered[tag] == nil {
		registered[tag] = map[string]string{}
	}
	for k, v := range m {
		if old, dup := registered[tag][k]; dup && old != v {
			panic(fmt.Sprintf("web: message %q registered twice for %s, as %q and %q", k, tag, old, v))
		}
		registered[tag][k] = v
		if err := messages.SetString(tag, k, v); err != nil {
			panic(fmt.Sprintf("web: message %q: %v", k, err))
		}
	}
}

// The layout's, the login page's and the error pages' strings.
func init() {
	register(map[string]string{
		"Entente console":                     "Entente console",
		"Skip to content":                     "Skip to content",
		"Main menu":                           "Main menu",
		"Overview":                            "Overview",
		"Objects":                             "Objects",
		"Agreement":                           "Agreement",
		"Cases":                               "Cases",
		"Ledger":                              "Ledger",
		"Detection":                           "Detection",
		"Accounts":                            "Accounts",
		"Log out":                             "Log out",
		"Logged in as %s (%s)":                "Logged in as %s (%s)",
		"Log in":                              "Log in",
		"Account":                             "Account",
		"Token":                               "Token",
		"The account name or token is wrong.": "The account name or token is wrong.",
		"Enter the account's name and its token.": "Enter the account's name and its token.",
		"The browser sent no login cookie back. The console's cookies are Secure, which browsers keep over plain HTTP only for a loopback address (127.0.0.1, [::1] or localhost): open the console over HTTPS, or at %s, and log in again.": "The browser sent no login cookie back. The console's cookies are Secure, which browsers keep over plain HTTP only for a loopback address (127.0.0.1, [::1] or localhost): open the console over HTTPS, or at %s, and log in again.",
		"This form has expired or did not come from this console. Try again.":                              "This form has expired or did not come from this console. Try again.",
		"This form has expired or did not come from this console. Go back, reload the page and try again.": "This form has expired or did not come from this console. Go back, reload the page and try again.",
		"Your session has ended. Log in again.":                                                            "Your session has ended. Log in again.",
		"Your account's role may not open this page.":                                                      "Your account's role may not open this page.",
		"The node cannot answer now. Try again in a moment.":                                               "The node cannot answer now. Try again in a moment.",
		"The node failed to answer. The error is in its log.":                                              "The node failed to answer. The error is in its log.",
		"Log in with your account's name and the token it was given (entente user add prints it).":         "Log in with your account's name and the token it was given (entente user add prints it).",
		"Error %d":                  "Error %d",
		"Back to the overview":      "Back to the overview",
		"This page does not exist.": "This page does not exist.",
		"Times are shown in UTC; hover a time to see it in the operator's zone.": "Times are shown in UTC; hover a time to see it in the operator's zone.",
		"never":      "never",
		"%d s":       "%d s",
		"%d min":     "%d min",
		"%d h":       "%d h",
		"%d days":    "%d days",
		"in %s":      "in %s",
		"%s ago":     "%s ago",
		"Next page":  "Next page",
		"First page": "First page",
	})
}
