// Package security is Titan's security module: authentication (JWTs of
// security.jwt, an app's [Authenticator], TLS client certificates), the
// authorization of titan.Auth, titan.Roles and titan.Permissions with the
// roles of security.rbac, titan.RateLimit, the limits of security.auth, and
// the TLS of every secure listener and dialer (security.tls). Importing it
// adds [Module] to every titan app:
//
//	import _ "github.com/titanframework/titan/modules/security"
//
// # Events
//
// security.events says who may subscribe to which of the app's events. It
// is an ordered list of rules; a subscription to an event name is decided
// by the first rule whose topic matches the name:
//
//	security:
//	  events:
//	    - topic: orders.audit.>      # before orders.>: the first match decides
//	      roles: [auditor]
//	    - topic: orders.>
//	      roles: [admin, support]    # one of them, directly or inherited
//	      permissions: [orders:read] # and every one of these
//	    - topic: metrics.*           # any authenticated caller
//
// Topics are patterns of event names as netron's Subscribe takes them: "*"
// is exactly one token, a final ">" one or more ("orders.>" does not match
// "orders": list it too to protect it). A subscriber needs an
// authenticated connection (unauthenticated otherwise) holding one of the
// rule's roles and every one of its permissions, checked as for methods
// (permission_denied otherwise, naming the event, the rule and what is
// missing); the connection stays open and usable. A rule with neither
// roles nor permissions lets every authenticated connection subscribe.
// Event names no rule matches may be subscribed to by every connection,
// or, with security.auth.required, by every authenticated one whose
// credentials have not expired.
//
// The rules are checked when a connection subscribes (the subscribe task
// of tcp://, tls://, unix://, ws://, wss:// connections), and again before
// each event is sent to it: a connection whose credentials expired, or
// that authenticated again as a caller the rule refuses, is not sent the
// event (its subscription stays, and serves it again once it may). They
// do not reach NATS:
// the events bridge (nats.events) publishes every event to
// <prefix>.events.<name>, and a nats:// peer subscribes to that subject at
// the NATS server; restrict those subjects with the NATS server's
// permissions. The development UI's event monitor (devui), whose
// subscriptions are patterns, shows each event only to a caller the rules
// let subscribe to its name.
package security
