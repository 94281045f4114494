// Package templates holds the project templates of `titan new` and the
// files of `titan generate`.
//
// Each top-level directory of [FS] whose name does not start with "_" is
// one template, named after the directory: service (the default), gateway
// and worker. A project gets the files of _base and those of its
// template, the template's own replacing a _base file of the same path.
// _generate/service holds the files `titan generate service` adds. Every
// file is a text/template source executed with the project's data; a
// file's path drops the ".tmpl" suffix, and a path segment "_package"
// becomes the package name.
package templates
