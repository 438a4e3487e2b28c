// Command vulnfixture exists only so that govulncheck -scan module sees
// every module of go.mod in its package graph; it is never built.
package main

import (
	_ "github.com/gin-gonic/gin"
	_ "golang.org/x/crypto/ssh"
	_ "golang.org/x/net/html"
	_ "golang.org/x/text/language"
)

func main() {}
