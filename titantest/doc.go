// Package titantest serves Titan services in tests and dials them, on the
// in-process mem:// transport by default, with cleanup registered on the
// test. Calls still go through the codec, contracts and interceptors, so a
// test exercises what production does.
package titantest
