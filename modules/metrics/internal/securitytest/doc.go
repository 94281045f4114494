// Package securitytest holds the tests of the metrics module with the
// security module linked: importing it adds the security guard to every
// app of the test binary, so these tests live apart from the others.
package securitytest
