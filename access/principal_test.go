package access_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
)

func TestPrincipalActor(t *testing.T) {
	tests := []struct {
		p    *access.Principal
		want string
	}{
		{nil, "anonymous"},
		{&access.Principal{UserID: 3, Name: "jsmith", Role: access.Police}, "user:jsmith"},
		{&access.Principal{TokenID: 7, Name: "nightly feed", Role: access.Partner}, "token:7:nightly feed"},
		{&access.Principal{TokenID: 1234567890123, Name: "x"}, "token:1234567890123:x"},
		{access.FromUser(&access.User{ID: 9, Username: "ABrown", Role: access.Council}), "user:ABrown"},
		{access.FromToken(&access.Token{ID: 10, Name: "feed", Role: access.Partner}), "token:10:feed"},
	}
	for _, tt := range tests {
		if got := tt.p.Actor(); got != tt.want {
			t.Errorf("%+v.Actor() = %q, want %q", tt.p, got, tt.want)
		}
	}
}

func TestPrincipalIs(t *testing.T) {
	police := &access.Principal{Role: access.Police}
	if !police.Is(access.Police) || !police.Is(access.IncidentReaders...) || !police.Is(access.Readers...) {
		t.Error("police is not police, an incident reader and a reader")
	}
	if police.Is(access.Admins...) || police.Is(access.Intake...) || police.Is() {
		t.Error("police is an admin, intake, or one of no roles")
	}
	partner := &access.Principal{Role: access.Partner}
	if partner.Is(access.Readers...) || !partner.Is(access.Intake...) {
		t.Error("a partner reads, or may not push reports")
	}
	var nobody *access.Principal
	if nobody.Is(access.Roles...) {
		t.Error("a nil principal has a role")
	}
	for _, r := range access.Roles {
		if !(&access.Principal{Role: r}).Is(access.Roles...) {
			t.Errorf("%s is not among Roles", r)
		}
	}
}

func TestPrincipalScoped(t *testing.T) {
	tests := []struct {
		p      *access.Principal
		scoped bool
	}{
		{nil, false},
		{&access.Principal{Role: access.Police}, false},
		{&access.Principal{Role: access.Police, Areas: []string{"E05000001"}}, true},
		{&access.Principal{Role: access.Admin, Areas: []string{"E05000001"}}, false},
		{&access.Principal{Role: access.Council, Areas: []string{"E05000001"}}, false},
		{access.FromUser(&access.User{Role: access.Police, Areas: []string{"W1", "W2"}}), true},
		{access.FromToken(&access.Token{Role: access.Police, Areas: []string{"W1"}}), true},
	}
	for _, tt := range tests {
		if got := tt.p.Scoped(); got != tt.scoped {
			t.Errorf("%+v.Scoped() = %v, want %v", tt.p, got, tt.scoped)
		}
	}
}

func TestFromUserAndToken(t *testing.T) {
	u := &access.User{ID: 4, Username: "jsmith", Role: access.Police, Areas: []string{"W1"}, PasswordHash: "secret hash"}
	p := access.FromUser(u)
	if p.UserID != 4 || p.TokenID != 0 || p.Name != "jsmith" || p.Role != access.Police || len(p.Areas) != 1 {
		t.Errorf("FromUser = %+v", p)
	}
	tok := &access.Token{ID: 5, Name: "feed", Role: access.Partner, Source: "third_party", Hash: []byte("h")}
	p = access.FromToken(tok)
	if p.TokenID != 5 || p.UserID != 0 || p.Name != "feed" || p.Role != access.Partner || p.Source != "third_party" {
		t.Errorf("FromToken = %+v", p)
	}
	ctx := context.Background()
	if access.PrincipalFrom(ctx) != nil {
		t.Error("a bare context has a principal")
	}
	if got := access.PrincipalFrom(access.WithPrincipal(ctx, p)); got != p {
		t.Errorf("PrincipalFrom(WithPrincipal(p)) = %+v", got)
	}
}

func TestParseRole(t *testing.T) {
	for in, want := range map[string]access.Role{
		"police": access.Police, "Council": access.Council, " STRATEGIC ": access.Strategic,
		"partner": access.Partner, "admin": access.Admin,
	} {
		got, err := access.ParseRole(in)
		if err != nil || got != want {
			t.Errorf("ParseRole(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "root", "administrator", "police,admin"} {
		got, err := access.ParseRole(in)
		if err == nil {
			t.Errorf("ParseRole(%q) = %q, want an error", in, got)
			continue
		}
		if geo.ErrorCode(err) != geo.EINVALID || !strings.Contains(err.Error(), "police, council, strategic, partner, admin") {
			t.Errorf("ParseRole(%q): %v; want EINVALID listing the roles", in, err)
		}
	}
}

func TestRoleRights(t *testing.T) {
	for _, tt := range []struct {
		r                    access.Role
		incidents, smallCnts bool
	}{
		{access.Police, true, true},
		{access.Admin, true, true},
		{access.Council, false, true},
		{access.Strategic, false, false},
		{access.Partner, false, false},
	} {
		if tt.r.SeesIncidents() != tt.incidents || tt.r.SeesSmallCounts() != tt.smallCnts {
			t.Errorf("%s: SeesIncidents %v, SeesSmallCounts %v; want %v, %v",
				tt.r, tt.r.SeesIncidents(), tt.r.SeesSmallCounts(), tt.incidents, tt.smallCnts)
		}
	}
}
