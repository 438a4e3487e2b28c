// Package assemble builds a container image reproducibly from files on
// disk and a base image, the way ko does: the inputs alone decide the
// manifest digest.
//
// The files become one layer appended to the base image (or to an empty
// image, "scratch"). The layer's tar entries are sorted by path; every
// entry (the files and the directories that lead to them) is owned by
// 0:0 with no user or group names; directories have mode 0755, files 0755
// when the source file has any execute bit and 0644 otherwise; every
// modification time is the source date epoch; nothing of the host (the
// source path, owner, umask, mtime, extended attributes) enters the tar.
// The config keeps the base's and sets the entrypoint, command, environment,
// labels, platform and working directory asked for; its creation time and
// the new history entry's are the source date epoch, so no wall-clock time
// enters the image.
//
// The package reads and writes no registry: the caller opens the base
// image (package oci does that) and writes or pushes the result.
package assemble
