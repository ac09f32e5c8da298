// Package web is the operators' console: server-rendered pages under /ui/
// on the node's own listener, for the node's own accounts.
//
// Pages are html/template files and static assets embedded in the
// binary; there is no build step. Every page is authorised with the
// roles the TAXII paths use (reader < analyst < admin), reads through
// package node, which decides each collection with node.Can, and shows
// a partner only what policy.Decide says it would release. Partners
// never log in: they use TAXII.
//
// Security: an account logs in once with its token; the server keeps a
// session named by a random cookie (HttpOnly, Secure, SameSite=Strict,
// __Host- prefixed). Every form carries the session's CSRF token and
// every POST without it is refused. Every response carries a strict
// Content-Security-Policy with no inline script or style.
//
// Every string a page shows goes through a message catalog
// (golang.org/x/text/message), so that each party can run the console
// in its own language; English is complete.
package web
