package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tensionmap/tensionmap/access"
	"github.com/tensionmap/tensionmap/geo"
	"github.com/tensionmap/tensionmap/postgis"
)

const usersUsage = `Usage:
  tensionmap users add USERNAME --role R [--name "Full Name"] [--areas CODE,CODE] [--password-stdin]
  tensionmap users list [--json]
  tensionmap users disable USERNAME
  tensionmap users enable USERNAME
  tensionmap users reset-password USERNAME [--password-stdin]
  tensionmap users set-role USERNAME [--role R] [--areas CODE,CODE]
  tensionmap users demo [--file PATH]

Roles: police (incident-level data, in --areas if given), council, strategic,
partner, admin. Every change is recorded in the audit log.`

func runUsers(ctx context.Context, env *Env, args []string) error {
	sub := ""
	if len(args) > 0 {
		sub = args[0]
	}
	switch sub {
	case "add":
		return runUsersAdd(ctx, env, args[1:])
	case "list":
		return runUsersList(ctx, env, args[1:])
	case "disable":
		return runUsersDisable(ctx, env, args[1:], true)
	case "enable":
		return runUsersDisable(ctx, env, args[1:], false)
	case "reset-password":
		return runUsersResetPassword(ctx, env, args[1:])
	case "set-role":
		return runUsersSetRole(ctx, env, args[1:])
	case "demo":
		return runUsersDemo(ctx, env, args[1:])
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(env.Stdout, usersUsage)
		return flag.ErrHelp
	}
	fmt.Fprintln(env.Stderr, usersUsage)
	if sub == "" {
		return usageError("want a users command: add, list, disable, enable, reset-password, set-role or demo")
	}
	return usageError("unknown users command %q", sub)
}

// usernameArg returns the single positional argument, a username.
func usernameArg(fs *flag.FlagSet) (string, error) {
	if fs.NArg() != 1 {
		return "", usageError("name one user")
	}
	name := fs.Arg(0)
	if err := access.CheckUsername(name); err != nil {
		return "", usageError("%s", userMessage(err))
	}
	return name, nil
}

// parseRoleFlag parses --role, a usage error naming the roles when it is not one.
func parseRoleFlag(s string) (access.Role, error) {
	r, err := access.ParseRole(s)
	if err != nil {
		return "", usageError("--role: %s", userMessage(err))
	}
	return r, nil
}

// checkAreaCodes refuses areas for any role but police, and warns of codes that name no
// stored area (the areas may not be imported yet).
func checkAreaCodes(ctx context.Context, db *postgis.DB, env *Env, role access.Role, areas []string) error {
	if len(areas) == 0 {
		return nil
	}
	if err := access.CheckScope(role, areas); err != nil {
		return usageError("--areas: %s", userMessage(err))
	}
	missing, err := db.AreaCodesExist(ctx, areas)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		fmt.Fprintf(env.Stderr, "warning: no stored area has the code %s: check it, or import the areas (`tensionmap areas import`)\n",
			strings.Join(missing, ", "))
	}
	return nil
}

// passwordFor reads a password line from stdin when fromStdin, else generates one.
// It reports whether it generated the password, which must then be shown.
func passwordFor(env *Env, fromStdin bool) (pw string, generated bool, err error) {
	if !fromStdin {
		return access.GeneratePassword(), true, nil
	}
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", false, fmt.Errorf("reading the password from stdin: %w", err)
	}
	pw = strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", false, errors.New("--password-stdin: no password on stdin (give it as one line)")
	}
	if err := access.CheckPassword(pw); err != nil {
		return "", false, err
	}
	return pw, false, nil
}

// printPassword prints a generated password alone on stdout, and what it is on stderr.
func printPassword(env *Env, username, pw string) {
	fmt.Fprintf(env.Stderr, "the password of %s, shown this once (pass it on safely; it cannot be shown again):\n", username)
	fmt.Fprintln(env.Stdout, pw)
}

func parseAreaCodes(s string) []string {
	var out []string
	for _, c := range splitList(s) {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

func runUsersAdd(ctx context.Context, env *Env, args []string) error {
	var role, name, areas string
	var fromStdin bool
	fs := newFlagSet(env, "users add", `users add USERNAME --role R [--name "Full Name"] [--areas CODE,CODE] [--password-stdin]`)
	fs.StringVar(&role, "role", "", "police, council, strategic, partner or admin (required)")
	fs.StringVar(&name, "name", "", "the person's full name")
	fs.StringVar(&areas, "areas", "", "police only: the area codes the team covers, comma-separated (default: the whole force area)")
	fs.BoolVar(&fromStdin, "password-stdin", false, "read the password as one line from stdin (default: generate one and print it)")
	if err := parse(env, fs, args); err != nil {
		return err
	}
	username, err := usernameArg(fs)
	if err != nil {
		return err
	}
	if role == "" {
		return usageError("--role is required: police, council, strategic, partner or admin")
	}
	r, err := parseRoleFlag(role)
	if err != nil {
		return err
	}
	codes := parseAreaCodes(areas)
	if err := access.CheckScope(r, codes); err != nil {
		return usageError("--areas: %s", userMessage(err))
	}
	pw, generated, err := passwordFor(env, fromStdin)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, &env.Config, 2)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := checkAreaCodes(ctx, db, env, r, codes); err != nil {
		return err
	}
	hash, err := access.HashPassword(pw)
	if err != nil {
		return err
	}
	u := &access.User{Username: username, Name: strings.TrimSpace(name), Role: r, Areas: codes, PasswordHash: hash}
	if err := db.CreateUser(ctx, u); err != nil {
		return err
	}
	if err := recordAudit(ctx, db, env, "users.create", map[string]any{
		"username": u.Username, "name": u.Name, "role": string(u.Role), "areas": u.Areas, "password": passwordOriginOf(generated),
	}); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "created the %s user %s%s\n", u.Role, u.Username, describeUserAreas(u))
	if generated {
		printPassword(env, u.Username, pw)
	}
	return nil
}

func passwordOriginOf(generated bool) string {
	if generated {
		return "generated"
	}
	return "given"
}

func describeUserAreas(u *access.User) string {
	if u.Role != access.Police {
		return ""
	}
	if len(u.Areas) == 0 {
		return ", covering the whole force area"
	}
	return ", covering " + strings.Join(u.Areas, ", ")
}

type userJSON struct {
	ID         int64      `json:"id"`
	Username   string     `json:"username"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	Areas      []string   `json:"areas"`
	Disabled   bool       `json:"disabled"`
	CreatedAt  time.Time  `json:"created_at"`
	LastSignIn *time.Time `json:"last_sign_in"`
}

func runUsersList(ctx context.Context, env *Env, args []string) error {
	var asJSON bool
	fs := newFlagSet(env, "users list", "users list [--json]")
	fs.BoolVar(&asJSON, "json", false, "print the users as a JSON array")
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
	users, err := db.Users(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		out := make([]userJSON, 0, len(users))
		for _, u := range users {
			areas := u.Areas
			if areas == nil {
				areas = []string{}
			}
			out = append(out, userJSON{ID: u.ID, Username: u.Username, Name: u.Name, Role: string(u.Role), Areas: areas,
				Disabled: u.Disabled, CreatedAt: u.CreatedAt, LastSignIn: jsonTime(u.LastSignIn)})
		}
		return json.NewEncoder(env.Stdout).Encode(out)
	}
	if len(users) == 0 {
		fmt.Fprintln(env.Stderr, "no users yet: add one with `tensionmap users add USERNAME --role R`")
		return nil
	}
	loc := env.Config.location
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USERNAME\tNAME\tROLE\tAREAS\tDISABLED\tCREATED\tLAST SIGN-IN")
	for _, u := range users {
		areas := strings.Join(u.Areas, ",")
		if u.Role == access.Police && areas == "" {
			areas = "all"
		}
		disabled := "no"
		if u.Disabled {
			disabled = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.Username, tableCell(u.Name), u.Role, tableCell(areas), disabled,
			tableTime(u.CreatedAt, loc), tableTime(u.LastSignIn, loc))
	}
	return tw.Flush()
}

// findUserByName opens the database and looks a user up by name.
func findUserByName(ctx context.Context, env *Env, username string) (*postgis.DB, *access.User, error) {
	db, err := openDB(ctx, &env.Config, 2)
	if err != nil {
		return nil, nil, err
	}
	u, err := db.UserByUsername(ctx, username)
	if geo.ErrorCode(err) == geo.ENOTFOUND {
		db.Close()
		return nil, nil, geo.Errorf(geo.ENOTFOUND, "no user %s: `tensionmap users list` shows them", username)
	} else if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, u, nil
}

func runUsersDisable(ctx context.Context, env *Env, args []string, disable bool) error {
	verb := "enable"
	if disable {
		verb = "disable"
	}
	fs := newFlagSet(env, "users "+verb, "users "+verb+" USERNAME")
	if err := parse(env, fs, args); err != nil {
		return err
	}
	username, err := usernameArg(fs)
	if err != nil {
		return err
	}
	db, u, err := findUserByName(ctx, env, username)
	if err != nil {
		return err
	}
	defer db.Close()
	changed := u.Disabled != disable
	if changed {
		u.Disabled = disable
		if err := db.UpdateUser(ctx, u); err != nil {
			return err
		}
	}
	if disable {
		// However it came to be disabled, a disabled user keeps no session.
		if err := db.DeleteUserSessions(ctx, u.ID); err != nil {
			return err
		}
	}
	if !changed {
		fmt.Fprintf(env.Stderr, "%s is already %sd: nothing changed\n", u.Username, verb)
		return nil
	}
	if err := recordAudit(ctx, db, env, "users."+verb, map[string]any{"username": u.Username, "disabled": disable}); err != nil {
		return err
	}
	if disable {
		fmt.Fprintf(env.Stderr, "disabled %s and signed it out everywhere\n", u.Username)
	} else {
		fmt.Fprintf(env.Stderr, "enabled %s\n", u.Username)
	}
	return nil
}

func runUsersResetPassword(ctx context.Context, env *Env, args []string) error {
	var fromStdin bool
	fs := newFlagSet(env, "users reset-password", "users reset-password USERNAME [--password-stdin]")
	fs.BoolVar(&fromStdin, "password-stdin", false, "read the new password as one line from stdin (default: generate one and print it)")
	if err := parse(env, fs, args); err != nil {
		return err
	}
	username, err := usernameArg(fs)
	if err != nil {
		return err
	}
	// Read the password before touching the database, so that a bad one changes nothing.
	pw, generated, err := passwordFor(env, fromStdin)
	if err != nil {
		return err
	}
	db, u, err := findUserByName(ctx, env, username)
	if err != nil {
		return err
	}
	defer db.Close()
	if u.PasswordHash, err = access.HashPassword(pw); err != nil {
		return err
	}
	if err := db.UpdateUser(ctx, u); err != nil {
		return err
	}
	if err := db.DeleteUserSessions(ctx, u.ID); err != nil {
		return err
	}
	if err := recordAudit(ctx, db, env, "users.reset_password", map[string]any{"username": u.Username, "password": passwordOriginOf(generated)}); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "reset the password of %s and signed it out everywhere\n", u.Username)
	if generated {
		printPassword(env, u.Username, pw)
	}
	return nil
}

func runUsersSetRole(ctx context.Context, env *Env, args []string) error {
	var role, areas string
	fs := newFlagSet(env, "users set-role", "users set-role USERNAME [--role R] [--areas CODE,CODE]")
	fs.StringVar(&role, "role", "", "the new role: police, council, strategic, partner or admin")
	fs.StringVar(&areas, "areas", "", `police only: the area codes the team covers, comma-separated; "" for the whole force area`)
	if err := parse(env, fs, args); err != nil {
		return err
	}
	username, err := usernameArg(fs)
	if err != nil {
		return err
	}
	areasGiven := false
	fs.Visit(func(f *flag.Flag) { areasGiven = areasGiven || f.Name == "areas" })
	if role == "" && !areasGiven {
		return usageError("give the new --role, --areas, or both")
	}
	var newRole access.Role
	if role != "" {
		if newRole, err = parseRoleFlag(role); err != nil {
			return err
		}
	}
	db, u, err := findUserByName(ctx, env, username)
	if err != nil {
		return err
	}
	defer db.Close()
	before := *u
	if newRole != "" {
		u.Role = newRole
	}
	codes := parseAreaCodes(areas)
	switch {
	case areasGiven && u.Role != access.Police && len(codes) > 0:
		return usageError("--areas applies to the police role only (the areas a neighbourhood team covers), not to %s", u.Role)
	case areasGiven:
		u.Areas = codes
	case u.Role != access.Police:
		u.Areas = nil
	}
	if err := checkAreaCodes(ctx, db, env, u.Role, codes); err != nil {
		return err
	}
	if u.Role == before.Role && slices.Equal(u.Areas, before.Areas) {
		fmt.Fprintf(env.Stderr, "%s is already %s%s: nothing changed\n", u.Username, u.Role, describeUserAreas(u))
		return nil
	}
	if err := db.UpdateUser(ctx, u); err != nil {
		return err
	}
	// End the user's sessions, so that the change is felt at once: the next page
	// asks the user to sign in again, under the new rights.
	if err := db.DeleteUserSessions(ctx, u.ID); err != nil {
		return err
	}
	params := map[string]any{"username": u.Username, "role": string(u.Role), "areas": u.Areas,
		"previous_role": string(before.Role), "previous_areas": nonNilList(before.Areas)}
	if err := recordAudit(ctx, db, env, "users.set_role", params); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "%s is now %s%s, and signed out everywhere\n", u.Username, u.Role, describeUserAreas(u))
	return nil
}

func nonNilList(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// demoNames are the full names of the demo accounts, one per role.
var demoNames = map[access.Role]string{
	access.Police:    "Demo neighbourhood police officer",
	access.Council:   "Demo community safety officer",
	access.Strategic: "Demo strategic lead",
	access.Partner:   "Demo partner (third-party reporting centre)",
	access.Admin:     "Demo administrator",
}

type demoLogin struct {
	role     access.Role
	username string
	password string
}

// runUsersDemo makes sure a demo account exists for each role, named after it, and
// keeps their passwords in a file beside the local cluster so that `make run` can
// print the same sign-ins each time.
func runUsersDemo(ctx context.Context, env *Env, args []string) error {
	var file string
	fs := newFlagSet(env, "users demo", "users demo [--file PATH]")
	fs.StringVar(&file, "file", "", "where the demo sign-ins are kept (default: demo-logins.txt in the data directory)")
	if err := parse(env, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument %q", fs.Arg(0))
	}
	if file == "" {
		file = filepath.Join(env.Config.DataDir, "demo-logins.txt")
	}
	known, err := readDemoLogins(file)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, &env.Config, 2)
	if err != nil {
		return err
	}
	defer db.Close()
	// The police user covers two wards, or two MSOAs where there are no wards (the
	// Milton Keynes demo).
	wards, err := db.AreaCodes(ctx, "ward", 2)
	if err == nil && len(wards) == 0 {
		wards, err = db.AreaCodes(ctx, "msoa", 2)
	}
	if err != nil {
		return err
	}
	var logins []demoLogin
	changed := false
	for _, role := range access.Roles {
		username := string(role)
		pw, inFile := known[username]
		u, err := db.UserByUsername(ctx, username)
		switch {
		case geo.ErrorCode(err) == geo.ENOTFOUND:
			// Keep the password of the file if it has one (the database was made
			// afresh): the sign-ins people know still work.
			generated := !inFile || access.CheckPassword(pw) != nil
			if generated {
				pw = access.GeneratePassword()
			}
			hash, err := access.HashPassword(pw)
			if err != nil {
				return err
			}
			u = &access.User{Username: username, Name: demoNames[role], Role: role, PasswordHash: hash}
			if role == access.Police {
				u.Areas = wards
			}
			if err := db.CreateUser(ctx, u); err != nil {
				return err
			}
			origin := "generated"
			if !generated {
				origin = "from " + filepath.Base(file)
			}
			if err := recordAudit(ctx, db, env, "users.create", map[string]any{"username": u.Username, "name": u.Name,
				"role": string(u.Role), "areas": nonNilList(u.Areas), "password": origin, "demo": true}); err != nil {
				return err
			}
			fmt.Fprintf(env.Stderr, "created the demo %s user %s%s\n", role, username, describeUserAreas(u))
			changed = changed || generated
		case err != nil:
			return err
		case !inFile || !access.VerifyPassword(u.PasswordHash, pw):
			// The file is lost, or the password was changed since: a fresh one, so
			// that the printed sign-in works.
			pw = access.GeneratePassword()
			if u.PasswordHash, err = access.HashPassword(pw); err != nil {
				return err
			}
			if err := db.UpdateUser(ctx, u); err != nil {
				return err
			}
			if err := db.DeleteUserSessions(ctx, u.ID); err != nil {
				return err
			}
			if err := recordAudit(ctx, db, env, "users.reset_password", map[string]any{"username": u.Username, "password": "generated", "demo": true}); err != nil {
				return err
			}
			fmt.Fprintf(env.Stderr, "reset the password of the demo user %s: %s did not hold it\n", username, file)
			changed = true
		}
		if u.Role != role {
			fmt.Fprintf(env.Stderr, "warning: the demo user %s has the role %s, not %s\n", username, u.Role, role)
		}
		if u.Disabled {
			fmt.Fprintf(env.Stderr, "warning: the demo user %s is disabled (`tensionmap users enable %s`)\n", username, username)
		}
		logins = append(logins, demoLogin{role: u.Role, username: username, password: pw})
	}
	if changed || len(known) != len(logins) {
		if err := writeDemoLogins(file, logins); err != nil {
			return err
		}
	} else if err := os.Chmod(file, 0o600); err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, "Demo sign-ins (demo accounts: for trying the service out, never for real data):")
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  ROLE\tUSERNAME\tPASSWORD")
	for _, l := range logins {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", l.role, l.username, l.password)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "(kept in %s)\n", file)
	return nil
}

// readDemoLogins reads "role username password" lines; a missing file holds none.
func readDemoLogins(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	} else if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && !strings.HasPrefix(f[0], "#") {
			out[f[1]] = f[2]
		}
	}
	return out, nil
}

// writeDemoLogins replaces the file with the logins, readable by its owner only.
func writeDemoLogins(path string, logins []demoLogin) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".demo-logins-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	for _, l := range logins {
		fmt.Fprintf(tmp, "%s %s %s\n", l.role, l.username, l.password)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
