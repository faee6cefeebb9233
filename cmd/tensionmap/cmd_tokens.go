package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
)

const tokensUsage = `Usage:
  tensionmap tokens create --role R [--name NAME] [--source S] [--expires DURATION] [--areas CODE,CODE]
  tensionmap tokens list [--json]
  tensionmap tokens revoke ID

An API token lets a machine call the API: a partner's system pushing reports (role
partner, with the --source it reports as), or a feed reading data. The token is
printed once, on stdout; only a hash of it is kept. Every change is recorded in
the audit log.`

func runTokens(ctx context.Context, env *Env, args []string) error {
	sub := ""
	if len(args) > 0 {
		sub = args[0]
	}
	switch sub {
	case "create":
		return runTokensCreate(ctx, env, args[1:])
	case "list":
		return runTokensList(ctx, env, args[1:])
	case "revoke":
		return runTokensRevoke(ctx, env, args[1:])
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(env.Stdout, tokensUsage)
		return flag.ErrHelp
	}
	fmt.Fprintln(env.Stderr, tokensUsage)
	if sub == "" {
		return usageError("want a tokens command: create, list or revoke")
	}
	return usageError("unknown tokens command %q", sub)
}

func runTokensCreate(ctx context.Context, env *Env, args []string) error {
	var role, name, source, expires, areas string
	fs := newFlagSet(env, "tokens create", "tokens create --role R [--name NAME] [--source S] [--expires DURATION] [--areas CODE,CODE]")
	fs.StringVar(&role, "role", "", "police, council, strategic, partner or admin (required)")
	fs.StringVar(&name, "name", "", "what the token is for, e.g. \"victim support nightly push\" (default: the source, else the role)")
	fs.StringVar(&source, "source", "", "the only source the token may push reports as, one of --sources (required for partner)")
	fs.StringVar(&expires, "expires", "", "how long the token lasts: 90d, 720h (default: until revoked)")
	fs.StringVar(&areas, "areas", "", "police only: the area codes the token may read, comma-separated (default: all)")
	if err := parse(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument %q", fs.Arg(0))
	}
	if role == "" {
		return usageError("--role is required: police, council, strategic, partner or admin")
	}
	r, err := parseRoleFlag(role)
	if err != nil {
		return err
	}
	cfg := &env.Config
	if source != "" {
		source = geo.NormaliseName(source)
		if !slices.Contains(cfg.Sources, source) {
			return usageError("--source %q is not a configured source: want one of %s", source, strings.Join(cfg.Sources, ", "))
		}
		if !slices.Contains(access.Intake, r) {
			return usageError("--source applies to the roles that push reports (partner, admin), not to %s", r)
		}
	} else if r == access.Partner {
		return usageError("a partner token needs --source, the source it pushes reports as: one of %s", strings.Join(cfg.Sources, ", "))
	}
	codes := parseAreaCodes(areas)
	if len(codes) > 0 && r != access.Police {
		return usageError("--areas applies to the police role only, not to %s", r)
	}
	t := &access.Token{Name: strings.TrimSpace(name), Role: r, Source: source, Areas: codes, CreatedBy: cliActor(env)}
	if t.Name == "" {
		t.Name = source
		if t.Name == "" {
			t.Name = string(r)
		}
	}
	if expires != "" {
		d, err := parseDaysDuration(expires)
		if err != nil {
			return usageError("--expires: %v", err)
		}
		t.ExpiresAt = time.Now().Add(d)
	}
	db, err := openDB(ctx, cfg, 2)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := checkAreaCodes(ctx, db, env, r, codes); err != nil {
		return err
	}
	var token string
	if err := db.CreateToken(ctx, t, func(id int64) []byte {
		var hash []byte
		token, hash = access.NewToken(id)
		return hash
	}); err != nil {
		return err
	}
	expiry := "never"
	if !t.ExpiresAt.IsZero() {
		expiry = t.ExpiresAt.UTC().Format(time.RFC3339)
	}
	params := map[string]any{"id": t.ID, "name": t.Name, "role": string(t.Role), "source": t.Source, "expires": expiry}
	if len(t.Areas) > 0 {
		params["areas"] = t.Areas
	}
	if err := recordAudit(ctx, db, env, "tokens.create", params); err != nil {
		return err
	}
	until := "it does not expire: revoke it with `tensionmap tokens revoke " + strconv.FormatInt(t.ID, 10) + "` when done"
	if !t.ExpiresAt.IsZero() {
		until = "it expires " + t.ExpiresAt.In(cfg.location).Format("2006-01-02 15:04 MST")
	}
	fmt.Fprintf(env.Stderr, "created token %d (%s, %s); %s\nthe token, shown this once (store it as a secret; it cannot be shown again):\n",
		t.ID, t.Name, describeTokenRights(t), until)
	fmt.Fprintln(env.Stdout, token)
	return nil
}

func describeTokenRights(t *access.Token) string {
	s := "role " + string(t.Role)
	if t.Source != "" {
		s += ", source " + t.Source
	}
	if len(t.Areas) > 0 {
		s += ", areas " + strings.Join(t.Areas, ",")
	}
	return s
}

type tokenJSON struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	Role      string     `json:"role"`
	Source    string     `json:"source"`
	Areas     []string   `json:"areas"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at"`
	LastUsed  *time.Time `json:"last_used"`
	Live      bool       `json:"live"`
}

func runTokensList(ctx context.Context, env *Env, args []string) error {
	var asJSON bool
	fs := newFlagSet(env, "tokens list", "tokens list [--json]")
	fs.BoolVar(&asJSON, "json", false, "print the tokens as a JSON array")
	if err := parse(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument %q", fs.Arg(0))
	}
	db, err := openDB(ctx, &env.Config, 2)
	if err != nil {
		return err
	}
	defer db.Close()
	tokens, err := db.Tokens(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	if asJSON {
		out := make([]tokenJSON, 0, len(tokens))
		for _, t := range tokens {
			out = append(out, tokenJSON{ID: t.ID, Name: t.Name, Role: string(t.Role), Source: t.Source, Areas: nonNilList(t.Areas),
				CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt, ExpiresAt: jsonTime(t.ExpiresAt), RevokedAt: jsonTime(t.RevokedAt),
				LastUsed: jsonTime(t.LastUsed), Live: t.Live(now)})
		}
		return json.NewEncoder(env.Stdout).Encode(out)
	}
	if len(tokens) == 0 {
		fmt.Fprintln(env.Stderr, "no API tokens yet: create one with `tensionmap tokens create --role R`")
		return nil
	}
	loc := env.Config.location
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tROLE\tSOURCE\tAREAS\tCREATED\tBY\tEXPIRES\tREVOKED\tLAST USED")
	for _, t := range tokens {
		expires := tableTime(t.ExpiresAt, loc)
		if t.ExpiresAt.IsZero() {
			expires = "never"
		} else if !t.ExpiresAt.After(now) {
			expires += " (expired)"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, tableCell(t.Name), t.Role, tableCell(t.Source),
			tableCell(strings.Join(t.Areas, ",")), tableTime(t.CreatedAt, loc), tableCell(t.CreatedBy), expires, tableTime(t.RevokedAt, loc), tableTime(t.LastUsed, loc))
	}
	return tw.Flush()
}

func runTokensRevoke(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "tokens revoke", "tokens revoke ID")
	if err := parse(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("name one token by its id (`tensionmap tokens list` shows them)")
	}
	arg := fs.Arg(0)
	var id int64
	if strings.HasPrefix(arg, "tmk_") {
		// A leaked token, pasted whole: revoke it by its id, whatever its secret.
		parsed, _, err := access.ParseToken(arg)
		if err != nil {
			return usageError("%q is neither a token id nor a token", arg)
		}
		id = parsed
	} else {
		n, err := strconv.ParseInt(arg, 10, 64)
		if err != nil || n <= 0 {
			return usageError("%q is not a token id: want the number `tensionmap tokens list` shows", arg)
		}
		id = n
	}
	db, err := openDB(ctx, &env.Config, 2)
	if err != nil {
		return err
	}
	defer db.Close()
	t, err := db.TokenByID(ctx, id)
	if geo.ErrorCode(err) == geo.ENOTFOUND {
		return geo.Errorf(geo.ENOTFOUND, "no token %d: `tensionmap tokens list` shows them", id)
	} else if err != nil {
		return err
	}
	if !t.RevokedAt.IsZero() {
		fmt.Fprintf(env.Stderr, "token %d (%s) was already revoked on %s\n", t.ID, t.Name, tableTime(t.RevokedAt, env.Config.location))
		return nil
	}
	if err := db.RevokeToken(ctx, id, time.Now()); err != nil {
		return err
	}
	if err := recordAudit(ctx, db, env, "tokens.revoke", map[string]any{"id": t.ID, "name": t.Name, "role": string(t.Role), "source": t.Source}); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "revoked token %d (%s, %s): it no longer works\n", t.ID, t.Name, describeTokenRights(t))
	return nil
}
