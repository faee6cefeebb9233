package localpg

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// runner runs the server programs (initdb, pg_ctl) as the user that owns the
// cluster: the current user, or, when the process is root (PostgreSQL
// refuses to run as root), the postgres system user through runuser or su.
type runner struct {
	user     string // "" = the current user
	uid, gid int    // of user; only meaningful when user != ""
	groups   []int  // all the group IDs of user
	workDir  string // a directory that user can enter
}

// runnerFor picks the user that runs the cluster in c. As root that is the
// owner of an existing data directory, if not root, or else postgres.
func runnerFor(c *cluster) (*runner, error) {
	if os.Geteuid() != 0 {
		return &runner{workDir: c.dir}, nil
	}
	name := "postgres"
	if fi, err := os.Stat(c.data); err == nil {
		st, ok := fi.Sys().(*syscall.Stat_t)
		if ok && st.Uid == 0 {
			return nil, fmt.Errorf("localpg: data directory %s is owned by root, and PostgreSQL cannot run as root; remove it or chown -R it to postgres", c.data)
		}
		if ok {
			u, err := user.LookupId(strconv.Itoa(int(st.Uid)))
			if err != nil {
				return nil, fmt.Errorf("localpg: owner (uid %d) of %s: %w", st.Uid, c.data, err)
			}
			name = u.Username
		}
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("localpg: running as root, PostgreSQL must run as the %q system user, which was not found (install the postgresql server package, which creates it, or run as a non-root user): %w", name, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	var gids []int
	if ids, err := u.GroupIds(); err == nil {
		for _, s := range ids {
			if g, err := strconv.Atoi(s); err == nil {
				gids = append(gids, g)
			}
		}
	}
	r := &runner{user: name, uid: uid, gid: gid, workDir: c.dir}
	r.groups = append(gids, gid)
	return r, nil
}

// prepareDirs creates Dir, Dir/run and Dir/log. As root it also makes sure
// the cluster user can reach Dir (every directory above it must be
// traversable by that user, so one that is not gets o+x, say a 0700
// checkout made by mktemp -d) and gives it Dir, Dir/run and Dir/log.
func prepareDirs(c *cluster) (*runner, error) {
	r, err := runnerFor(c)
	if err != nil {
		return nil, err
	}
	if r.user != "" {
		if err := r.ensureReachable(c, c.dir); err != nil {
			return nil, err
		}
	}
	for _, d := range []string{c.dir, c.run, c.logDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("localpg: %w", err)
		}
		if err := r.chown(d); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// mkdirAll creates dir and its missing parents. As root, the directories it
// creates get mode 0755 whatever the umask, so that the postgres user can
// traverse them.
func mkdirAll(dir string) error {
	var created []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil || d == filepath.Dir(d) {
			break
		}
		created = append(created, d)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("localpg: %w", err)
	}
	if os.Geteuid() == 0 {
		for _, d := range created {
			if err := os.Chmod(d, 0o755); err != nil {
				return fmt.Errorf("localpg: %w", err)
			}
		}
	}
	return nil
}

// ensureReachable makes every directory above dir traversable by the
// runner's user, adding execute permission for others (traversal only, not
// listing) where it is missing, and fails naming a directory it cannot fix.
func (r *runner) ensureReachable(c *cluster, dir string) error {
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("localpg: %w", err)
		}
		if !r.canTraverse(fi) {
			if err := os.Chmod(d, fi.Mode().Perm()|0o001); err != nil {
				return fmt.Errorf("localpg: directory %s (mode %v) is not traversable by the %s user, which must reach %s, and making it so failed: %v; run chmod o+x %s, or choose a Dir elsewhere",
					d, fi.Mode().Perm(), r.user, dir, err, d)
			}
			c.logf("made %s traversable (o+x) for the %s user, which runs PostgreSQL", d, r.user)
			if fi, err = os.Stat(d); err != nil || !r.canTraverse(fi) {
				return fmt.Errorf("localpg: directory %s is still not traversable by the %s user; run chmod o+x %s, or choose a Dir elsewhere", d, r.user, d)
			}
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

func (r *runner) canTraverse(fi fs.FileInfo) bool {
	perm := fi.Mode().Perm()
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return perm&0o001 != 0
	}
	switch {
	case int(st.Uid) == r.uid:
		return perm&0o100 != 0
	case slices.Contains(r.groups, int(st.Gid)):
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}

// chown gives path to the runner's user when running as root.
func (r *runner) chown(path string) error {
	if r.user == "" {
		return nil
	}
	if err := os.Lchown(path, r.uid, r.gid); err != nil {
		return fmt.Errorf("localpg: %w", err)
	}
	return nil
}

// command builds the command that runs name as the runner's user.
func (r *runner) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	var cmd *exec.Cmd
	switch {
	case r.user == "":
		cmd = exec.CommandContext(ctx, name, args...)
	case lookRunuser() != "":
		cmd = exec.CommandContext(ctx, lookRunuser(), append([]string{"-u", r.user, "--", name}, args...)...)
	default:
		script := "exec " + shellQuote(name)
		for _, a := range args {
			script += " " + shellQuote(a)
		}
		cmd = exec.CommandContext(ctx, "su", r.user, "-s", "/bin/sh", "-c", script)
	}
	cmd.Dir = r.workDir
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// output runs name and returns its combined output.
func (r *runner) output(ctx context.Context, name string, args ...string) (string, error) {
	var buf bytes.Buffer
	cmd := r.command(ctx, name, args...)
	cmd.Stdout = &buf
	cmd.Stderr = &buf
	err := cmd.Run()
	return buf.String(), err
}

// lookRunuser returns the path of util-linux's runuser, or "".
func lookRunuser() string {
	if p, err := exec.LookPath("runuser"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/runuser", "/sbin/runuser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// shellQuote quotes s for /bin/sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
