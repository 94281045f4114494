// Package templates holds the project templates of `titan new`.
//
// Each top-level directory of [FS] is one template, named after the
// directory. Its files are text/template sources executed with the
// project's data; a file's path drops the ".tmpl" suffix, and a path
// segment "_package" becomes the project's package name.
package templates
