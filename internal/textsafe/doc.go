// Package textsafe makes strings from evidence, scans and requests safe to
// print on a terminal. Subject names, requesters, messages and file paths
// are chosen by whoever signed or uploaded them; printed raw, an ESC or CSI
// sequence can rewrite the screen, retitle the window or hide a line, and a
// bidi override can make "prod" read as something else. Every human-readable
// renderer passes such strings through [Escape]; JSON output stays exact.
package textsafe
