package main

import "context"

func runDemo(ctx context.Context, env *Env, args []string) error {
	return usageError("not yet")
}
