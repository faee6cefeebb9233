// Package access decides who may do what: roles, users and the areas a police team
// covers, password hashing, sessions, API tokens, sign-in throttling and the audit
// trail. It holds the rules; postgis stores them and web enforces them.
package access
