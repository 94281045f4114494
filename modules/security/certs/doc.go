// Package certs configures TLS once, under the security.tls section of the
// Titan configuration, for every secure listener and dialer of a process.
//
// A [Config] names PEM files: the certificate (chain) and private key of
// the process, and a CA bundle. [New] loads them into a [Store], whose
// [Store.Server] and [Store.Client] return the *tls.Config of listeners
// and dialers: netron.WithTLS(store.Server(), store.Client()) serves and
// dials tls:// (TCP with TLS), wss:// and https:// with them, and
// store.Client() suits other TLS clients, such as the connection to NATS
// (nats.Secure). Both require TLS 1.2 or later.
//
// # Mutual TLS
//
// With mtls on, a server requires a client certificate and verifies it
// against the CA bundle; a client without one, or with one from another CA,
// fails the TLS handshake and so cannot complete a call. A client presents
// its certificate whenever cert and key are set. The identity setting
// (subject or san) says what a verified client certificate tells about its
// holder; [IdentityOf] reads it, for the security module's RBAC.
//
// # Reloading
//
// Files are reloaded when they change, without a restart. There is no
// watcher goroutine: at a TLS handshake, once the reload interval (default
// 1s) has passed since the last check, the files are stat'ed and, when one
// changed (another file, modification time or size), all are read again.
// The new certificate and CA then serve the handshakes that follow;
// established connections keep theirs. A change that does not load (a
// half-written file, a key that does not match the certificate) leaves the
// previous certificates in force: [Store.LastError] returns the failure,
// which names the file, and the logger given to [NewWithLogger] reports it
// once. Replacing a file by renaming a complete new one over it avoids the
// half-written state.
//
// A server picks up a changed CA bundle at once. A client's verification of
// servers uses the CA certificates of the bundle when [Store.Client] was
// called, as long as they stay in the bundle: a CA removed from the file is
// no longer trusted, one added is trusted by the configurations Client
// returns after the change.
package certs
