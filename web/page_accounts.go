package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/entente/entente/node"
	"github.com/entente/entente/store"
	"github.com/entente/entente/taxii"
)

// accountsPerPage is the number of accounts one page lists.
const accountsPerPage = 50

// routesAccounts registers the accounts page and its actions, for admins
// only.
func (s *Server) routesAccounts(rt *router) {
	rt.page("GET /ui/accounts", roleAdmin, s.accountsPage)
	rt.page("POST /ui/accounts", roleAdmin, s.createAccount)
	rt.page("POST /ui/accounts/{name}/grant", roleAdmin, s.grantAccount)
	rt.page("POST /ui/accounts/{name}/revoke", roleAdmin, s.revokeAccount)
}

type accountsData struct {
	Accounts    []accountRow
	Collections []collectionOption // every collection, by id
	After       string             // this page's cursor, "" on the first
	Next        string             // the next page's query, "" on the last
	Roles       []string
	// The create form: what was entered, and why it was refused.
	Name, Role, Error string
	// Done says what the last action did (after its redirect).
	Done string
}

type accountRow struct {
	Name    string
	Role    string
	Created time.Time
	Admin   bool
	Grants  []string // "Default (read)"
}

func (s *Server) accountsPage(w http.ResponseWriter, r *http.Request, u *Session) {
	q := r.URL.Query()
	d := accountsData{After: q.Get("after"), Role: string(store.RoleReader)}
	d.Done = s.doneMessage(u, q)
	s.showAccounts(w, r, u, http.StatusOK, d)
}

// showAccounts renders the page with d's form and messages, reading the
// page of accounts d.After starts.
func (s *Server) showAccounts(w http.ResponseWriter, r *http.Request, u *Session, status int, d accountsData) {
	entries, more, err := s.node.AccountsPage(r.Context(), u.Caller, d.After, accountsPerPage)
	if err != nil {
		s.internal(w, r, u, err)
		return
	}
	cols, err := s.node.VisibleCollections(r.Context(), u.Caller)
	if err != nil {
		s.internal(w, r, u, err)
		return
	}
	names := map[string]string{}
	for _, c := range cols {
		names[c.ID] = c.Name()
		d.Collections = append(d.Collections, collectionOption{Value: c.ID, Label: c.Name()})
	}
	for _, a := range entries {
		row := accountRow{Name: a.Name, Role: string(a.Role), Created: a.Created, Admin: a.Role == store.RoleAdmin}
		for _, g := range a.Grants {
			row.Grants = append(row.Grants, u.T("%s (%s)", names[g.Collection], u.T(string(g.Right))))
		}
		d.Accounts = append(d.Accounts, row)
	}
	if more && len(entries) > 0 {
		d.Next = "?" + url.Values{"after": {entries[len(entries)-1].Name}}.Encode()
	}
	d.Roles = []string{string(store.RoleReader), string(store.RoleAnalyst), string(store.RoleAdmin)}
	s.renderStatus(w, r, u, status, "accounts.html", d, "")
}

// doneMessage says what the action a redirect came from did.
func (s *Server) doneMessage(u *Session, q url.Values) string {
	acct, right, col := q.Get("account"), q.Get("right"), q.Get("collection")
	switch q.Get("done") {
	case "granted":
		return u.T("Granted %s on %s to %s.", u.T(right), col, acct)
	case "held":
		return u.T("%s held %s on %s already.", acct, u.T(right), col)
	case "revoked":
		return u.T("Revoked %s on %s from %s.", u.T(right), col, acct)
	case "unheld":
		return u.T("%s did not hold %s on %s.", acct, u.T(right), col)
	}
	return ""
}

type createdData struct {
	Name, Role, Token string
}

// createAccount creates an account and shows its token on the page it
// answers with, directly (200): the token is shown this once and kept
// nowhere, so no later GET could show it. The page is not cached
// (Cache-Control: no-store on every page).
func (s *Server) createAccount(w http.ResponseWriter, r *http.Request, u *Session) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	role := store.Role(r.PostFormValue("role"))
	d := accountsData{Name: name, Role: string(role)}
	if err := node.ValidAccountName(name); err != nil {
		d.Error = u.T("The name cannot be used: %v", err)
		s.showAccounts(w, r, u, http.StatusBadRequest, d)
		return
	}
	if !node.ValidRole(role) {
		d.Error = u.T("Choose a role: reader, analyst or admin.")
		s.showAccounts(w, r, u, http.StatusBadRequest, d)
		return
	}
	token, err := s.node.CreateAccountAs(r.Context(), u.Caller, name, role)
	switch {
	case errors.Is(err, store.ErrExists):
		d.Error = u.T("An account named %s exists already. Choose another name.", name)
		s.showAccounts(w, r, u, http.StatusConflict, d)
		return
	case err != nil:
		s.internal(w, r, u, err)
		return
	}
	s.log.InfoContext(r.Context(), "console: account created", "by", u.Account(), "account", name, "role", role)
	s.render(w, r, u, "accounts_created.html", createdData{Name: name, Role: string(role), Token: token})
}

func (s *Server) grantAccount(w http.ResponseWriter, r *http.Request, u *Session) {
	s.changeGrant(w, r, u, true)
}

func (s *Server) revokeAccount(w http.ResponseWriter, r *http.Request, u *Session) {
	s.changeGrant(w, r, u, false)
}

// changeGrant grants or revokes a right (node.Grant, node.Revoke) and
// redirects to the accounts page, which says what it did.
func (s *Server) changeGrant(w http.ResponseWriter, r *http.Request, u *Session, grant bool) {
	name := r.PathValue("name")
	right := store.Right(r.PostFormValue("right"))
	col := r.PostFormValue("collection")
	if right != store.RightRead && right != store.RightWrite {
		s.showAccounts(w, r, u, http.StatusBadRequest, accountsData{Error: u.T("Choose a right: read or write.")})
		return
	}
	if col == "" {
		s.showAccounts(w, r, u, http.StatusBadRequest, accountsData{Error: u.T("Choose a collection.")})
		return
	}
	// What node.Grant refuses for the account's role is said here, in
	// the console's words; any other failure is the node's.
	target, err := s.node.CallerOf(r.Context(), name)
	switch {
	case errors.Is(err, taxii.ErrUnauthorized):
		s.fail(w, r, u, http.StatusNotFound, u.T("There is no account named %s.", name))
		return
	case err != nil:
		s.internal(w, r, u, err)
		return
	case store.Role(target.Role) == store.RoleAdmin:
		s.showAccounts(w, r, u, http.StatusBadRequest, accountsData{Error: u.T("%s is an admin account, which may read and write every collection; grants are for analyst and reader accounts.", name)})
		return
	case store.Role(target.Role) == store.RoleReader && right == store.RightWrite:
		s.showAccounts(w, r, u, http.StatusBadRequest, accountsData{Error: u.T("%s is a reader account, and readers never write; grant it read, or make it an analyst.", name)})
		return
	}
	change, done, same := s.node.GrantAs, "granted", "held"
	if !grant {
		change, done, same = s.node.RevokeAs, "revoked", "unheld"
	}
	c, changed, err := change(r.Context(), u.Caller, name, col, right)
	switch {
	case errors.Is(err, node.ErrNoAccount):
		s.fail(w, r, u, http.StatusNotFound, u.T("There is no account named %s.", name))
		return
	case errors.Is(err, node.ErrNoCollection):
		s.showAccounts(w, r, u, http.StatusBadRequest, accountsData{Error: u.T("There is no such collection: %v", err)})
		return
	case err != nil:
		s.internal(w, r, u, err)
		return
	}
	if !changed {
		done = same
	}
	s.log.InfoContext(r.Context(), "console: grant changed", "by", u.Account(), "account", name, "right", right, "collection", c.ID, "grant", grant, "changed", changed)
	v := url.Values{"done": {done}, "account": {name}, "right": {string(right)}, "collection": {node.ConsoleCollection{Collection: c}.Name()}}
	http.Redirect(w, r, Prefix+"accounts?"+v.Encode(), http.StatusSeeOther)
}
